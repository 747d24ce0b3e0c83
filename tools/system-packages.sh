#!/usr/bin/env bash
# Installs the Debian packages Stockwire needs when they are missing: mosquitto, python3-venv,
# what building evdev takes (gcc, python3-dev, linux-libc-dev), and the test tools: openssl,
# chromium (browser test), shellcheck and systemd-analyze (the Pi set-up and its units).
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# evdev (the dock reader) is built from source: a C compiler, Python's headers, Linux's headers
command -v gcc >/dev/null 2>&1 || need+=(gcc)
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' 2>/dev/null || need+=(python3-dev)
[ -e /usr/include/linux/input.h ] || need+=(linux-libc-dev)
# the provisioning tests make a CA and a server certificate with the openssl CLI
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# the gateway status page's browser test drives Debian's chromium (never a downloaded build)
[ -x /usr/bin/chromium ] || need+=(chromium)
# the operations tests lint hardware/pi-setup.sh and verify the systemd units offline
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
# The demo and tests start their own broker; the packaged service is not needed by them.
