#!/usr/bin/env bash
# The one command that runs the tests, on a fresh machine or a dev checkout:
# makes .venv, installs mcp-scaffold with its test extras, installs the real kubectl,
# helm and Checkov into .tools/, then runs lint, types and the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -m pip install --quiet -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c "import scaffold, jinja2, yaml, kubernetes_validate, questionary, pytest, hypothesis"
.venv/bin/python scripts/install-tools.py 2>&1 | grep -v '^WARNING: Location'
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
mypy
exec python -m pytest "$@"
