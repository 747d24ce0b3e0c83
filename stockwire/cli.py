"""The `stockwire` command line: one entry point, each part registers its own commands.

`gateway.cli` and `server.cli` add their sub-commands (gateway run, ledger serve, barcode
explain, ...); `stockwire.demo` adds `demo`. This module only wires them together.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockwire", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from gateway.cli import add_commands as add_gateway_commands
    from gateway.provision_cli import add_commands as add_provision_commands
    from server.cli import add_commands as add_server_commands
    from server.reports.cli import add_commands as add_report_commands
    from stockwire.demo.cli import add_commands as add_demo_commands
    from stockwire.flash_cli import add_commands as add_flash_commands

    add_demo_commands(commands)
    add_flash_commands(commands)
    add_gateway_commands(commands)
    add_provision_commands(commands)
    add_server_commands(commands)
    add_report_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
