"""Command-line sub-commands of the ledger: `ledger serve`, `ledger check`, `barcode explain`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from server.errors import SettingsError


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.settings import Settings

    try:
        settings = Settings.from_toml(args.config)
    except (SettingsError, OSError) as exc:
        print(f"stockwire ledger serve: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _check(args: argparse.Namespace) -> int:
    from server.db.engine import Database
    from server.ledger.check import check

    db = Database(args.db)
    try:
        with db.read() as conn:
            bad = check(conn)
    finally:
        db.dispose()
    if bad:
        print(f"{len(bad)} balance(s) differ from their movements:", file=sys.stderr)
        for row in bad:
            print(f"  {row}", file=sys.stderr)
        return 1
    print("ok: every balance equals the sum of its movements")
    return 0


def _unescape(code: str) -> str:
    """Let a shell user type the GS separator as \\x1d, \\u001d or <GS>."""
    for spelling in ("\\x1d", "\\u001d", "<GS>"):
        code = code.replace(spelling, "\x1d")
    return code


def _explain(args: argparse.Namespace) -> int:
    from server.barcodes.explain import explain

    args.code = _unescape(args.code)

    if args.db:
        from server.db.engine import Database

        db = Database(args.db)
        try:
            with db.read() as conn:
                doc = explain(args.code, conn)
        finally:
            db.dispose()
    else:
        doc = explain(args.code)
    if args.json:
        print(json.dumps(doc))
    else:
        for key, value in doc.items():
            if value not in (None, ""):
                print(f"{key:>8}: {value!r}" if key == "code" else f"{key:>8}: {value}")
    return 0 if doc["ok"] else 1


def add_commands(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="the stock ledger (FastAPI)")
    sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the ledger API")
    serve.add_argument("--config", required=True, help="ledger.toml")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8400)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)
    chk = sub.add_parser("check", help="prove every balance equals the sum of its movements")
    chk.add_argument("--db", required=True, help="database URL")
    chk.set_defaults(handler=_check)

    barcode = commands.add_parser("barcode", help="barcode tools")
    bsub = barcode.add_subparsers(dest="barcode_command", required=True, metavar="COMMAND")
    exp = bsub.add_parser("explain", help="what the ledger makes of a code")
    exp.add_argument("code")
    exp.add_argument("--json", action="store_true")
    exp.add_argument("--db", help="database URL: also name the SKU")
    exp.set_defaults(handler=_explain)
