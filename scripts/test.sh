#!/usr/bin/env bash
# Set up a virtual environment (once) and run the whole test suite: lint, unit and integration
# tests, the user notebooks and the performance notebooks under nbval.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,lab]"
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
exec .venv/bin/python -m pytest tests notebooks perf_notebooks --nbval-lax --nbval-current-env "$@"
