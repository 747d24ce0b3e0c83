"""`stockwire gateway admin add NAME --config gateway.toml`: an admin of the status page.

Asks for the password twice on the terminal (or reads one line from standard input with
`--password-stdin`) and writes its argon2 hash into `[status] users_file`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from gateway.config import load_for_command
from gateway.status.auth import AdminsFileError, add_admin


def add_command(sub: Any) -> None:
    admin = sub.add_parser("admin", help="admins of the status page")
    actions = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an admin, or set an admin's new password")
    add.add_argument("name")
    add.add_argument("--config", required=True, help="gateway TOML file (with [status])")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(handler=_add)


def _add(args: argparse.Namespace) -> int:
    config = load_for_command(args.config)
    if config is None:
        return 2
    if config.status is None:
        print(f"gateway: {args.config} has no [status] section", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            print("gateway: the passwords differ; nothing changed", file=sys.stderr)
            return 1
    try:
        add_admin(config.status.users_file, args.name, password)
    except (AdminsFileError, OSError) as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name} can log in to the status page ({config.status.users_file})")
    return 0
