"""The provisioning sub-commands of `stockwire`: `provision`, `revoke` and `broker-config`.

`provision scanner|gateway|monitor NAME` creates a login with a fresh password and writes (or
prints) the config that carries it; `provision list` shows the registry; `revoke NAME` revokes
a login; `broker-config DIR` writes Mosquitto's files. Once broker-config has run, every change
also rewrites passwd/acl there, and `--reload` makes the running broker re-read them. Exit 1
when the registry refuses (the reason on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from gateway import provision
from gateway.broker import TlsListener
from gateway.registry import Registry, RegistryError, default_site_dir, locked
from stockwire.files import write_private


def add_commands(commands: Any) -> None:
    """Register `provision`, `revoke` and `broker-config` on the `stockwire` sub-parser set."""
    parser = commands.add_parser("provision", help="MQTT logins of the site's devices")
    sub = parser.add_subparsers(dest="provision_command", required=True, metavar="ACTION")
    for role, text in (
        ("scanner", "a handheld: writes its flashing config (stockwire flash --config)"),
        ("gateway", "the site gateway: prints/writes gateway.toml's [mqtt] section"),
        ("monitor", "a read-only view of the site's topics: prints/writes its [mqtt] login"),
    ):
        cmd = sub.add_parser(role, help=text)
        cmd.add_argument("name", help="device / login name, e.g. hs-07")
        _site_options(cmd)
        cmd.add_argument("--site", help="the site's name (needed to start a new registry)")
        cmd.add_argument(
            "--broker-host",
            required=role == "scanner",
            default="127.0.0.1",
            help="the broker's address as the device reaches it",
        )
        cmd.add_argument("--broker-port", type=int, default=1883)
        if role == "scanner":
            cmd.add_argument("--wifi-ssid", help="the site's WiFi network")
            cmd.add_argument("--wifi-psk", help="its passphrase (or $STOCKWIRE_WIFI_PSK)")
        cmd.add_argument(
            "-o",
            "--output",
            required=role == "scanner",
            help="file to write (mode 0600)" + ("" if role == "scanner" else "; default stdout"),
        )
        cmd.add_argument("--rotate", action="store_true", help="issue a new password")
        _reload_options(cmd)
        cmd.set_defaults(handler=_provision, role=role)
    listing = sub.add_parser("list", help="every login of the site")
    _site_options(listing)
    listing.set_defaults(handler=_list)

    revoke = commands.add_parser("revoke", help="revoke a device's MQTT login")
    revoke.add_argument("name")
    _site_options(revoke)
    _reload_options(revoke)
    revoke.set_defaults(handler=_revoke)

    conf = commands.add_parser("broker-config", help="write Mosquitto's files for the site")
    conf.add_argument("dir", type=Path, help="directory for mosquitto.conf, passwd and acl")
    _site_options(conf)
    conf.add_argument("--site", help="the site's name (needed to start a new registry)")
    conf.add_argument("--port", type=int, default=1883)
    conf.add_argument("--host", default="", help="listen address (default: every interface)")
    conf.add_argument("--tls-port", type=int, help="add a TLS listener on this port")
    conf.add_argument("--tls-host", default="")
    conf.add_argument("--cafile", type=Path)
    conf.add_argument("--certfile", type=Path)
    conf.add_argument("--keyfile", type=Path)
    conf.add_argument("--pid-file", type=Path, help="default DIR/mosquitto.pid")
    conf.add_argument("--user", help="user Mosquitto runs as (default: the current user)")
    conf.set_defaults(handler=_broker_config)


def _site_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--site-dir",
        type=Path,
        default=None,
        help="the device registry (default $STOCKWIRE_SITE_DIR or /etc/stockwire/site)",
    )


def _reload_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--reload", action="store_true", help="have the running broker re-read")
    how = cmd.add_mutually_exclusive_group()
    how.add_argument("--systemd", action="store_true", help="reload via systemctl reload UNIT")
    how.add_argument("--pid-file", type=Path, help="default: the one broker-config wrote")
    cmd.add_argument("--unit", default="mosquitto", help="systemd unit (default mosquitto)")


def _site_dir(args: argparse.Namespace) -> Path:
    return Path(args.site_dir) if args.site_dir else default_site_dir()


def _fail(exc: Exception) -> int:
    print(f"stockwire: {exc}", file=sys.stderr)
    return 1


def _apply(registry: Registry, args: argparse.Namespace) -> None:
    """Save, rewrite the broker's access files if they exist, reload if asked."""
    registry.save()
    if registry.broker is not None:
        where = provision.rewrite_access(registry)
        print(f"rewrote passwd and acl in {where}", file=sys.stderr)
    if args.reload:
        unit = args.unit if args.systemd else None
        how = provision.reload_broker(registry, unit, args.pid_file)
        print(f"broker reloaded ({how})", file=sys.stderr)
    elif registry.broker is not None:
        print("the running broker still uses the old files until --reload", file=sys.stderr)


def _provision(args: argparse.Namespace) -> int:
    site_dir = _site_dir(args)
    try:
        with locked(site_dir):
            registry = Registry.load(site_dir, args.site)
            issued = provision.issue(registry, args.name, args.role, args.rotate)
            if args.role == "scanner":
                psk = args.wifi_psk or os.environ.get("STOCKWIRE_WIFI_PSK")
                doc = provision.scanner_config(
                    issued, args.broker_host, args.broker_port, args.wifi_ssid, psk
                )
                text = provision.scanner_config_text(doc)
            else:
                text = provision.mqtt_toml(issued, args.broker_host, args.broker_port)
            if args.output and args.output != "-":  # the device's copy first, then the hash
                write_private(Path(args.output), text)
            else:
                sys.stdout.write(text)
            _apply(registry, args)
    except (RegistryError, OSError) as exc:
        return _fail(exc)
    verb = "rotated" if args.rotate else "provisioned"
    print(f"{args.role} {args.name} {verb} in site {registry.site}", file=sys.stderr)
    if args.role == "scanner":
        if args.wifi_ssid is None:
            print("note: no --wifi-ssid, so the config has no WiFi for a board", file=sys.stderr)
        print(
            f"flash it: stockwire flash --port /dev/ttyUSB0 --device {args.name} "
            f"--config {args.output}",
            file=sys.stderr,
        )
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        registry = Registry.load(_site_dir(args))
    except RegistryError as exc:
        return _fail(exc)
    print(f"site {registry.site}")
    print("name\trole\tcreated\trotated\trevoked")
    for login in sorted(registry.logins.values(), key=lambda x: (x.role, x.name)):
        print(
            f"{login.name}\t{login.role}\t{login.created}\t{login.rotated or '-'}\t"
            f"{login.revoked or '-'}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    site_dir = _site_dir(args)
    try:
        with locked(site_dir, create=False):
            registry = Registry.load(site_dir)
            login = registry.revoke(args.name)
            _apply(registry, args)
    except (RegistryError, OSError) as exc:
        return _fail(exc)
    print(f"{login.role} {login.name} revoked at {login.revoked}", file=sys.stderr)
    return 0


def _broker_config(args: argparse.Namespace) -> int:
    tls_args = (args.cafile, args.certfile, args.keyfile)
    if args.tls_port is None and any(tls_args):
        return _fail(ValueError("--cafile/--certfile/--keyfile need --tls-port"))
    if args.tls_port is not None and not all(tls_args):
        return _fail(ValueError("--tls-port needs --cafile, --certfile and --keyfile"))
    tls = None
    if args.tls_port is not None:
        tls = TlsListener(
            args.tls_port,
            args.cafile.resolve(),
            args.certfile.resolve(),
            args.keyfile.resolve(),
            args.tls_host,
        )
    site_dir = _site_dir(args)
    try:
        with locked(site_dir):
            registry = Registry.load(site_dir, args.site)
            conf = provision.write_broker_files(
                registry, args.dir, args.port, args.host, tls, args.pid_file, args.user
            )
            registry.save()
    except (RegistryError, OSError) as exc:
        return _fail(exc)
    active = sum(1 for login in registry.logins.values() if login.active)
    print(f"wrote {conf} with {active} login(s); run: mosquitto -c {conf}", file=sys.stderr)
    return 0
