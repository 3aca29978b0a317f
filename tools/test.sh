#!/usr/bin/env bash
# The project's one test command (README quick start; .ci/run runs exactly this).
# Sets up what the tests need on a fresh machine, then checks formatting, lints and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python tools (libRoadRunner, python-libsbml, SciPy) for cross-engine tests, if the project
# defines them; idempotent and quick once installed.
if [ -x tools/setup_python.sh ]; then
  tools/setup_python.sh
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --release -- -D warnings
# Say what the cross-engine tests will find, so that a skip cannot pass unnoticed: the
# libRoadRunner tests must run here (the venv comes from PyPI above), the shared folders outside
# the repository are used where present.
export NEUREX_REQUIRE_LIBROADRUNNER=1
echo "== environment: .venv $( [ -x .venv/bin/python ] && echo present || echo MISSING );" \
  "../shared/sbml-test-suite $( [ -d ../shared/sbml-test-suite ] && echo present || echo absent, suite ratchet skipped );" \
  "../shared/science/sbml-models $( [ -d ../shared/science/sbml-models ] && echo present || echo absent, BioModels checks skipped )"
echo "== cargo test"
cargo test --workspace --release
