#!/usr/bin/env bash
# Set up a virtual environment (once) and open JupyterLab on the quick-start notebook.
# The offline provider is the default, so it works with no network and no API key.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[lab]"
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
exec .venv/bin/jupyter lab --ip 127.0.0.1 "${extra[@]}" notebooks/quickstart.ipynb "$@"
