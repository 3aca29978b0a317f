#!/usr/bin/env bash
# Create .venv with the pinned Python tools (libRoadRunner, python-libsbml, SciPy, NumPy) used by
# the SBML cross-check test and the benchmark. Idempotent: if the venv already holds exactly
# these requirements it returns at once. It does not stop the caller itself: without python3
# (with its venv module) or network the libRoadRunner tests then fail with a message saying so,
# because tools/test.sh sets NEUREX_REQUIRE_LIBROADRUNNER=1.
set -uo pipefail
cd "$(dirname "$0")/.."
req=tools/requirements.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
py=${PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
  echo "setup_python: no $py; the libRoadRunner tests need it" >&2
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv || { echo "setup_python: could not create .venv" >&2; rm -rf .venv; exit 0; }
fi
if .venv/bin/pip install --disable-pip-version-check -q -r "$req"; then
  echo "$want" > "$stamp"
  echo "setup_python: .venv ready ($(.venv/bin/python -c 'import roadrunner, libsbml, scipy; print("libroadrunner", roadrunner.__version__, "libsbml", libsbml.getLibSBMLDottedVersion(), "scipy", scipy.__version__)'))"
else
  echo "setup_python: pip install failed; the libRoadRunner tests need it" >&2
  # Leave no half-installed venv that would look ready.
  rm -f "$stamp"
fi
exit 0
