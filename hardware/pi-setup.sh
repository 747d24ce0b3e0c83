#!/usr/bin/env bash
# Sets up a Raspberry Pi (Raspberry Pi OS / Debian 12 or later) as a Stockwire site gateway:
# Debian packages, the `stockwire` system user, a virtualenv with Stockwire in /opt/stockwire
# (and /usr/local/bin/stockwire), /etc/stockwire/gateway.toml (a template, written once), the
# site directory /etc/stockwire/site, and from deploy/systemd/ the gateway's unit (the ledger's
# with --with-ledger) and a drop-in that makes Debian's mosquitto.service the site's broker,
# installed and enabled. Idempotent: each step looks first and says
# "ok:" when there is nothing to do, so re-running it (to upgrade, say) is safe; an existing
# gateway.toml or ledger.toml is never overwritten.
#
#   sudo hardware/pi-setup.sh [--site NAME] [--gateway-id ID] [--with-ledger] [--start]
#   hardware/pi-setup.sh --dry-run            # prints what it would do, changes nothing
#   hardware/pi-setup.sh --prefix DIR         # writes the files under DIR, without root
#
# docs/operations.md ("Install on a Raspberry Pi") walks through what comes after.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: pi-setup.sh [options]
  --site NAME         site name for a new gateway.toml (default: site1)
  --gateway-id ID     gateway id for a new gateway.toml (default: gw-1)
  --with-ledger       also install and enable stockwire-ledger.service (ledger on this Pi)
  --start             (re)start the services at the end (default: only enable them)
  --gpio | --no-gpio  add the gpio group and /dev/gpiochip* to the gateway (default: when the
                      group gpio exists)
  --source DIR        the Stockwire source to install (default: this script's checkout)
  --no-venv           leave the virtualenv alone (no pip install)
  --prefix DIR        write every file under DIR and skip what needs root (packages, user,
                      ownership, systemctl): for trying it out and for tests
  --dry-run           print what would be done; change nothing
  -h, --help          this text
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source_dir=$here
prefix=""
dry_run=0
with_ledger=0
start=0
no_venv=0
gpio=auto
site=site1
gateway_id=gw-1

while [[ $# -gt 0 ]]; do
  case $1 in
    --site) site=${2:?--site needs a name}; shift 2 ;;
    --gateway-id) gateway_id=${2:?--gateway-id needs an id}; shift 2 ;;
    --with-ledger) with_ledger=1; shift ;;
    --start) start=1; shift ;;
    --gpio) gpio=yes; shift ;;
    --no-gpio) gpio=no; shift ;;
    --source) source_dir=${2:?--source needs a directory}; shift 2 ;;
    --no-venv) no_venv=1; shift ;;
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "pi-setup: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

name_re='^[A-Za-z0-9_.-]+$'
[[ $site =~ $name_re ]] || { echo "pi-setup: --site must be a name" >&2; exit 2; }
[[ $gateway_id =~ $name_re ]] || { echo "pi-setup: --gateway-id must be a name" >&2; exit 2; }
if [[ -n $prefix ]]; then
  prefix=$(realpath -m "$prefix")
fi
if [[ -z $prefix && $dry_run -eq 0 && $(id -u) -ne 0 ]]; then
  echo "pi-setup: run as root (sudo), or try --dry-run / --prefix DIR" >&2
  exit 2
fi

USER_NAME=stockwire
OPT=/opt/stockwire
VENV=$OPT/venv
ETC=/etc/stockwire
STATE=/var/lib/stockwire
SITE_DIR=$ETC/site
BUFFER_DIR=$STATE/buffer
UNITS=/etc/systemd/system
PACKAGES=(mosquitto python3-venv python3-dev gcc linux-libc-dev sqlite3)

at() { printf '%s%s' "$prefix" "$1"; }  # a target path, under --prefix when given

# A change to files (under the prefix when given).
act() {
  if ((dry_run)); then
    echo "would run: $*"
  else
    echo "run: $*"
    "$@"
  fi
}

# A change to the system itself: needs root and a real machine, so --prefix skips it.
system() {
  if ((dry_run)); then
    echo "would run: $*"
  elif [[ -n $prefix ]]; then
    echo "skip (--prefix): $*"
  else
    echo "run: $*"
    "$@"
  fi
}

# Write stdin to a target file with a mode, unless it already holds exactly that.
put() {
  local dest mode text
  dest=$(at "$1")
  mode=$2
  text=$(cat)
  if [[ -f $dest ]] && [[ $(cat "$dest") == "$text" ]]; then
    echo "ok: $1 is up to date"
    return 0
  fi
  if ((dry_run)); then
    echo "would write: $1 (mode $mode)"
    return 0
  fi
  echo "write: $1"
  mkdir -p "$(dirname "$dest")"
  printf '%s\n' "$text" >"$dest.new"
  chmod "$mode" "$dest.new"
  mv -f "$dest.new" "$dest"
}

# Write stdin to a target file only if it does not exist yet (configs the admin edits).
put_once() {
  if [[ -e $(at "$1") ]]; then
    cat >/dev/null
    echo "ok: $1 exists; kept as it is"
  else
    put "$@"
  fi
}

directory() {  # directory PATH MODE OWNER:GROUP
  local dest
  dest=$(at "$1")
  if [[ -d $dest ]]; then
    echo "ok: $1 exists"
  else
    act install -d -m "$2" "$dest"
  fi
  system chown "$3" "$1"
  system chmod "$2" "$1"
}

have_group() { getent group "$1" >/dev/null 2>&1; }

echo "== Debian packages"
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "ok: ${PACKAGES[*]} installed"
else
  system apt-get update -q
  system env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
fi

echo "== the $USER_NAME user"
if getent passwd "$USER_NAME" >/dev/null 2>&1; then
  echo "ok: user $USER_NAME exists"
else
  system useradd --system --user-group --home-dir "$STATE" --no-create-home \
    --shell /usr/sbin/nologin "$USER_NAME"
fi
use_gpio=0
if [[ $gpio == yes ]] || { [[ $gpio == auto ]] && have_group gpio; }; then
  use_gpio=1
fi
groups=(input)
((use_gpio)) && groups+=(gpio)
for group in "${groups[@]}"; do
  if ! have_group "$group"; then
    echo "note: no group $group on this machine"
  elif id -nG "$USER_NAME" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
    echo "ok: $USER_NAME is in $group"
  else
    system usermod -a -G "$group" "$USER_NAME"
  fi
done

echo "== directories"
directory "$ETC" 0755 root:root
directory "$SITE_DIR" 0750 root:mosquitto  # the device registry and the broker's files
directory "$STATE" 0750 "$USER_NAME:$USER_NAME"
directory "$BUFFER_DIR" 0750 "$USER_NAME:$USER_NAME"
directory /var/backups/stockwire 0750 "$USER_NAME:$USER_NAME"  # stockwire gateway backup --to
directory "$OPT" 0755 root:root

echo "== Stockwire in $VENV"
if ((no_venv)); then
  echo "skip (--no-venv): the virtualenv"
else
  if [[ -x $(at "$VENV/bin/python") ]]; then
    echo "ok: $VENV exists"
  else
    act python3 -m venv "$(at "$VENV")"
  fi
  act "$(at "$VENV/bin/pip")" install -q --upgrade "$source_dir"
fi
if [[ $(readlink "$(at /usr/local/bin/stockwire)" 2>/dev/null) == "$VENV/bin/stockwire" ]]; then
  echo "ok: /usr/local/bin/stockwire links to $VENV/bin/stockwire"
else
  act mkdir -p "$(at /usr/local/bin)"
  act ln -sfn "$VENV/bin/stockwire" "$(at /usr/local/bin/stockwire)"
fi
for doc in "$source_dir"/docs/*.md; do
  name=$(basename "$doc")
  put "$OPT/docs/$name" 0644 <"$doc"
done

echo "== configuration in $ETC"
put_once "$ETC/gateway.toml" 0640 <<EOF
# The gateway of site $site, written once by hardware/pi-setup.sh: edit it freely, re-running
# the script keeps it. \`stockwire provision gateway\` gives the [mqtt] login only. The [ledger]
# token is made on the ledger: a secret of your own as [gateways] $gateway_id = "..." in its
# ledger.toml, or \`stockwire ledger token create --db URL --name $gateway_id --role gateway
# --gateway $gateway_id\`; put the same value here. docs/operations.md, "gateway.toml
# reference", lists every key with its default.
site = "$site"
gateway_id = "$gateway_id"

[mqtt]
host = "127.0.0.1"
port = 1883
username = "$gateway_id"
password = ""

[buffer]
path = "$BUFFER_DIR/gateway.db"
# cap_mb = 512
# alarm_pct = 80
# keep_sent_days = 7

# [ledger]
# url = "https://ledger.example.com"
# token = ""  # this gateway's token, made on the ledger (above)

# [dock]
# evdev_path = "/dev/input/by-id/usb-YOUR-READER-event-kbd"
EOF
system chown "root:$USER_NAME" "$ETC/gateway.toml"
if ((with_ledger)); then
  token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  put_once "$ETC/ledger.toml" 0640 <<EOF
# The ledger on this machine, written once by hardware/pi-setup.sh (re-running keeps it).
# admin_token is the bootstrap admin's; list each gateway's token under [gateways].
db_url = "sqlite:///$STATE/ledger/ledger.db"
admin_token = "$token"

[gateways]
# $gateway_id = "a long random token, the same as [ledger] token in gateway.toml"
EOF
  system chown "root:$USER_NAME" "$ETC/ledger.toml"
fi

echo "== systemd units"
units=(stockwire-gateway.service)
((with_ledger)) && units+=(stockwire-ledger.service)
for unit in "${units[@]}"; do
  put "$UNITS/$unit" 0644 <"$source_dir/deploy/systemd/$unit"
done
dropin=mosquitto.service.d/stockwire.conf
put "$UNITS/$dropin" 0644 <"$source_dir/deploy/systemd/$dropin"
units=(mosquitto.service "${units[@]}")
gpio_dropin=$UNITS/stockwire-gateway.service.d/gpio.conf
if ((use_gpio)); then
  put "$gpio_dropin" 0644 <<'EOF'
# Written by hardware/pi-setup.sh: this machine has a gpio group (a UPS HAT, status LEDs).
[Service]
SupplementaryGroups=gpio
DeviceAllow=char-gpiochip rw
EOF
elif [[ -e $(at "$gpio_dropin") ]]; then
  act rm -f "$(at "$gpio_dropin")"
fi
system systemctl daemon-reload
system systemctl enable "${units[@]}"
if ((start)); then
  system systemctl restart "${units[@]}"
fi

cat <<EOF
== next steps
1. Provision the gateway and each scanner (docs/operations.md, "Provisioning scanners and
   gateways"): sudo stockwire provision gateway $gateway_id --site $site
   and put the [mqtt] section it prints into $ETC/gateway.toml; the [ledger] token comes from
   the ledger (docs/operations.md, "The gateway's ledger token").
2. Write the broker's files:
   sudo stockwire broker-config $SITE_DIR --user mosquitto --pid-file /run/mosquitto/mosquitto.pid
3. Mount the USB SSD at $BUFFER_DIR (before the first start), then:
   sudo systemctl restart ${units[*]}
EOF
