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
echo "== cargo test"
cargo test --workspace --release
