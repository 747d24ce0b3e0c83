"""The `stockwire flash` command: which config goes onto the board, and whether it is current.

`stockwire flash --port /dev/ttyUSB0 --device hs-07 [--config FILE] [--site-dir DIR]
[--dry-run]` flashes the firmware and the device's flashing config (stockwire/flash.py).
The config is the file `stockwire provision scanner hs-07 -o FILE` wrote: the only place its
MQTT password exists. `--config` defaults to `./DEVICE.json`; without it the command refuses
and says how to make one. When the site registry is readable (on the gateway), the config must
be the device's current one: a scanner login of that site, not revoked, with the password whose
hash the registry holds. Elsewhere (a laptop) that check is skipped, with a note.
Owns this module's argparse setup, shared with `python -m tools.flash`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

from gateway.registry import REGISTRY_FILE, Registry, RegistryError, default_site_dir
from stockwire import flash, scanner_config
from stockwire.flash import FlashError


def add_commands(commands: Any) -> None:
    """Register `flash` on the `stockwire` sub-parser set."""
    parser = commands.add_parser("flash", help="flash a scanner's firmware and config over USB")
    configure(parser)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", required=True, help="the board's serial port, /dev/ttyUSB0")
    parser.add_argument("--device", help="the scanner's name, e.g. hs-07 (default: the config's)")
    parser.add_argument(
        "--config",
        type=Path,
        help="its flashing config from `stockwire provision scanner` (default ./DEVICE.json)",
    )
    parser.add_argument(
        "--site-dir",
        type=Path,
        help="the device registry to check the config against "
        "(default $STOCKWIRE_SITE_DIR or /etc/stockwire/site; skipped when absent)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    parser.set_defaults(handler=run_flash)


def load_config(path: Path, device: str | None) -> dict[str, Any]:
    """The flashing config at `path`, checked to be a scanner config for `device`."""
    name = device or "NAME"
    if path.is_dir():
        raise FlashError(f"{path} is a directory: give the config file, e.g. {path}/{name}.json")
    if not path.is_file():
        raise FlashError(
            f"no flashing config for {name} at {path}: write it with `stockwire provision "
            f"scanner {name} --broker-host ADDR --wifi-ssid SSID -o {path}` (add --rotate if "
            f"{name} exists; its password is only in that file), or give --config FILE"
        )
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FlashError(f"{path} is not a readable JSON config: {exc}") from None
    mqtt = doc.get("mqtt") if isinstance(doc, dict) else None
    if not isinstance(mqtt, dict) or not isinstance(mqtt.get("password"), str):
        raise FlashError(f"{path} is not a scanner's flashing config (no mqtt password)")
    if not isinstance(doc.get("dev"), str) or not isinstance(doc.get("site"), str):
        raise FlashError(f"{path} is not a scanner's flashing config (no dev or site)")
    if device is not None and doc["dev"] != device:
        raise FlashError(f"{path} is the config of {doc['dev']}, not {device}")
    wrong = scanner_config.problems(doc)
    if wrong:
        lines = "\n  ".join(wrong)
        raise FlashError(f"{path} would not work on a scanner (nothing was flashed):\n  {lines}")
    return doc


def secrets_of(doc: dict[str, Any]) -> list[str]:
    wifi = doc.get("wifi")
    psk = wifi.get("psk") if isinstance(wifi, dict) else None
    return [s for s in (doc["mqtt"]["password"], psk) if isinstance(s, str) and s]


def password_matches(password: str, stored: str) -> bool:
    """Whether `password` is the one a mosquitto `$7$` (PBKDF2-HMAC-SHA512) hash was made of."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), parts[4]
    ours = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return hmac.compare_digest(base64.b64encode(ours).decode(), digest)


def check_registry(doc: dict[str, Any], site_dir: Path) -> str:
    """Refuse a config the site registry does not back; say what was checked."""
    if not (site_dir / REGISTRY_FILE).exists():
        return f"note: no site registry in {site_dir}: the config is not checked against it"
    try:
        registry = Registry.load(site_dir)
    except (OSError, RegistryError, ValueError) as exc:
        return f"note: cannot read the site registry ({exc}): the config is not checked"
    dev = doc["dev"]
    if registry.site != doc["site"]:
        raise FlashError(
            f"the config is for site {doc['site']!r}, the registry is {registry.site!r}"
        )
    login = registry.logins.get(dev)
    if login is None or login.role != "scanner":
        raise FlashError(f"{dev} is not a scanner in site {registry.site}'s registry")
    if login.revoked:
        raise FlashError(f"{dev} was revoked at {login.revoked}: provision it again with --rotate")
    if not password_matches(doc["mqtt"]["password"], login.password_hash):
        raise FlashError(
            f"the config's password is not {dev}'s current one (rotated "
            f"{login.rotated or 'since'}?): use the file the last provision wrote"
        )
    return f"{dev}: current login of site {registry.site}"


def run_flash(args: argparse.Namespace, runner: flash.Runner = flash.run) -> int:
    if args.device is None and args.config is None:
        print("stockwire flash: give --device NAME (or --config FILE)", file=sys.stderr)
        return 2
    path = args.config if args.config is not None else Path(f"{args.device}.json")
    try:
        doc = load_config(path, args.device)
        print(check_registry(doc, args.site_dir or default_site_dir()))
    except FlashError as exc:
        print(f"stockwire flash: {exc}", file=sys.stderr)
        return 1
    if "wifi" not in doc:
        print(f"note: {path} has no wifi: the scanner cannot reach the broker", file=sys.stderr)
    print(f"flashing {doc['dev']} of site {doc['site']} from {path} on {args.port}")
    return flash.flash(args.port, path, runner, dry_run=args.dry_run, secrets=secrets_of(doc))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stockwire flash", description=__doc__.splitlines()[0])
    configure(parser)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code
