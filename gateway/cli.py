"""The gateway's sub-commands of `stockwire`: `gateway run`, `gateway dead-letters` and
`gateway backup` (registered by gateway.backup), `gateway admin` (gateway.status.admin_cli)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from gateway.config import load_for_command
from gateway.model import escape_payload, escape_text


def add_commands(commands: Any) -> None:
    """Register `gateway ...` on the `stockwire` sub-parser set."""
    parser = commands.add_parser("gateway", help="the site gateway (MQTT -> buffer -> ledger)")
    sub = parser.add_subparsers(dest="gateway_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="run the gateway in the foreground")
    run.add_argument("--config", required=True, help="gateway TOML file")
    run.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="default INFO",
    )
    run.set_defaults(handler=_run)
    dead = sub.add_parser("dead-letters", help="list payloads refused at the gateway")
    dead.add_argument("--config", required=True, help="gateway TOML file")
    dead.add_argument("--limit", type=int, default=50)
    dead.add_argument(
        "--width", type=int, default=120, help="payload characters shown (default 120)"
    )
    dead.set_defaults(handler=_dead_letters)
    from gateway.backup import add_command as add_backup_command

    add_backup_command(sub)
    from gateway.status.admin_cli import add_command as add_admin_command

    add_admin_command(sub)


def _run(args: argparse.Namespace) -> int:
    from gateway import app

    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = load_for_command(args.config)
    if config is None:
        return 2
    return app.main(config)


def _dead_letters(args: argparse.Namespace) -> int:
    import sqlite3

    from gateway.reader import BufferReader

    config = load_for_command(args.config)
    if config is None:
        return 2
    try:  # read-only beside a running gateway: never `database is locked` for it or for us
        with BufferReader(config.buffer.path) as reader:
            rows = reader.query(
                "SELECT id, gw_ts, topic, reason, detail, payload FROM dead_letters "
                "ORDER BY id DESC LIMIT ?",
                (args.limit,),
            )
    except sqlite3.Error as exc:
        print(f"gateway: {config.buffer.path}: {exc}", file=sys.stderr)
        return 2
    print(format_dead_letters(rows, args.width), end="")
    return 0


def format_dead_letters(rows: list[tuple[Any, ...]], width: int = 120) -> str:
    """Dead letters as tab-separated lines under a header; every text escaped (a payload is
    whatever a client sent: it must not be able to drive the admin's terminal), times in
    ISO 8601 UTC, payloads cut to `width` characters with their full size shown."""
    lines = ["id\treceived (UTC)\ttopic\treason\tdetail\tbytes\tpayload"]
    for id_, gw_ts, topic, reason, detail, payload in rows:
        raw = bytes(payload)
        when = datetime.fromtimestamp(int(gw_ts) / 1000, UTC).isoformat(timespec="milliseconds")
        fields = (
            str(id_),
            when.replace("+00:00", "Z"),
            escape_text(str(topic)),
            escape_text(str(reason)),
            escape_text(str(detail)),
            str(len(raw)),
            escape_payload(raw, width),
        )
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """`python -m gateway ...`: the same commands without the rest of `stockwire`."""
    parser = argparse.ArgumentParser(prog="python -m gateway")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    handler = args.handler
    return int(handler(args))
