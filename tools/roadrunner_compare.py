#!/usr/bin/env python3
"""Simulate an SBML file in libRoadRunner and print the trajectories as JSON, for neurex's
cross-engine tests (crates/neurex-sbml/tests/roadrunner.rs).

    roadrunner_compare.py MODEL.xml --end T --points N [--ids a,b] [--rtol R] [--atol A]

Also reads the file with python-libsbml and reports its error count. Output (--out FILE or
stdout, JSON; NaN and infinities as null):
{"libsbml_errors": n, "times": [...], "columns": {"id": [...], ...}}. A species is reported as
its concentration unless it has only substance units (the meaning of its symbol in math,
which is what neurex reports).
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--end", type=float, required=True)
    ap.add_argument("--points", type=int, default=101)
    ap.add_argument("--ids", default="")
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--atol", type=float, default=1e-12)
    ap.add_argument("--out", help="write the JSON here (default: stdout)")
    a = ap.parse_args()

    import libsbml
    doc = libsbml.readSBMLFromFile(a.model)
    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    severe = [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    model = doc.getModel()

    import roadrunner
    try:
        rr = roadrunner.RoadRunner(a.model)
    except Exception as e:  # libRoadRunner refuses some valid-but-underspecified models
        emit(a, {"libsbml_errors": len(severe), "libsbml_messages": [], "roadrunner_error": str(e).strip()[:500]})
        return
    rr.integrator.relative_tolerance = a.rtol
    rr.integrator.absolute_tolerance = a.atol
    rr.integrator.max_steps = 1_000_000
    try:
        rr.integrator.setValue("variable_step_size", False)
    except Exception:
        pass

    ids = [i for i in a.ids.split(",") if i]
    if not ids:
        ids = [model.getSpecies(i).getId() for i in range(model.getNumSpecies())]
    sel = ["time"]
    for i in ids:
        sp = model.getSpecies(i)
        if sp is not None and not sp.getHasOnlySubstanceUnits():
            comp = model.getCompartment(sp.getCompartment())
            sel.append(i if comp is not None and comp.getSpatialDimensions() == 0 else f"[{i}]")
        else:
            sel.append(i)
    rr.timeCourseSelections = sel
    res = rr.simulate(0.0, a.end, a.points)
    out = {
        "libsbml_errors": len(severe),
        "libsbml_messages": [e.getMessage().strip()[:300] for e in severe[:5]],
        "times": [float(t) for t in res[:, 0]],
        "columns": {i: [float(v) for v in res[:, k + 1]] for k, i in enumerate(ids)},
    }
    emit(a, out)


def emit(a, out):
    text = json.dumps(out).replace("NaN", "null").replace("-Infinity", "null").replace("Infinity", "null")
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
