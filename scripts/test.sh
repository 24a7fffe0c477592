#!/usr/bin/env bash
# Run envlock's test suite from a fresh clone: creates .venv, installs envlock with its test
# extras, then runs pytest.  Needs PyPI (packages; TensorFlow wheels for the end-to-end tests,
# cached by uv between runs).  No conda channel is contacted: tests build local channels.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/ruff check envlock tests benchmarks
exec .venv/bin/python -m pytest -q -rs "$@"
