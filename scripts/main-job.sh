#!/usr/bin/env bash
# The main job on a fresh machine: install envlock into .venv, lock the profile if its lock is
# missing or stale, create the environment from the lock and verify it.
#   bash scripts/main-job.sh [PROFILE]     (default: cpu-avx512)
# Network: the profile's conda channels (conda-forge for the shipped profiles) and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:-cpu-avx512}
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/envlock profiles
exec .venv/bin/envlock create --profile "$PROFILE"
