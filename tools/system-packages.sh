#!/usr/bin/env bash
# Installs the Debian packages Stockwire needs when they are missing: mosquitto, python3-venv,
# and what building evdev takes (gcc, python3-dev, linux-libc-dev).
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# evdev (the dock reader) is built from source: a C compiler, Python's headers, Linux's headers
command -v gcc >/dev/null 2>&1 || need+=(gcc)
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' 2>/dev/null || need+=(python3-dev)
[ -e /usr/include/linux/input.h ] || need+=(linux-libc-dev)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
# The demo and tests start their own broker; the packaged service is not needed by them.
