"""`stockwire ledger po list|show|submit|close` and `stockwire ledger reorder-alerts`.

`list` and `reorder-alerts` print one line per row (`--json`: the API's answer); `show`,
`submit` and `close` print the purchase order as JSON. Exit 1 when the ledger refuses (an
unknown reference, not a draft, already closed), 2 when the database cannot be opened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from server.purchasing.service import STATUSES

Render = Callable[[Any], str]


def _run(command: str, args: argparse.Namespace, fn: Any, write: bool, render: Render) -> int:
    from server.cli import CannotOpen, _open
    from server.errors import LedgerError

    async def go() -> int:
        try:
            db = await _open(args.db)
        except CannotOpen as exc:
            print(f"stockwire {command}: {exc}", file=sys.stderr)
            return 2
        try:
            doc = await (db.write(fn) if write else db.read(fn))
        except LedgerError as exc:
            print(f"stockwire {command}: {exc}", file=sys.stderr)
            return 1
        finally:
            await db.dispose()
        print(render(doc))
        return 0

    return asyncio.run(go())


def _as_json(doc: Any) -> str:
    return json.dumps(doc, indent=2)


def _table(key: str, line: Callable[[dict[str, Any]], str], as_json: bool) -> Render:
    def render(rows: list[dict[str, Any]]) -> str:
        if as_json:
            return _as_json({key: rows})
        return "\n".join(line(r) for r in rows) if rows else f"(no {key.replace('_', ' ')})"

    return render


def _po_line(po: dict[str, Any]) -> str:
    flags = f"  [{', '.join(po['flags'])}]" if po["flags"] else ""
    return (
        f"{po['ref']:<16} {po['status']:<18} {po['supplier'] or '-':<10} "
        f"{po['expected_on'] or '-':<10}  {po['received']}/{po['ordered']} received{flags}"
    )


def _alert_line(a: dict[str, Any]) -> str:
    state = f"closed ({a['closed_reason']})" if a["closed_at"] else "open"
    order = f"{a['po']} ({a['po_status']})" if a["po"] else a["note"]
    return (
        f"{a['sku']:<12} {a['loc'] or 'all':<10} available {a['available']} "
        f"(point {a['reorder_point']})  {state}  {order}"
    )


def _list(args: argparse.Namespace) -> int:
    from server.purchasing.service import list_all

    render = _table("purchase_orders", _po_line, args.json)
    return _run("ledger po list", args, lambda c: list_all(c, args.status), False, render)


def _show(args: argparse.Namespace) -> int:
    from server.purchasing.service import get

    return _run("ledger po show", args, lambda c: get(c, args.ref), False, _as_json)


def _submit(args: argparse.Namespace) -> int:
    from server.purchasing.service import submit

    return _run("ledger po submit", args, lambda c: submit(c, args.ref), True, _as_json)


def _close(args: argparse.Namespace) -> int:
    from server.purchasing.service import close

    return _run("ledger po close", args, lambda c: close(c, args.ref, args.note), True, _as_json)


def _alerts(args: argparse.Namespace) -> int:
    from server.reorder.service import alerts

    render = _table("alerts", _alert_line, args.json)
    return _run("ledger reorder-alerts", args, lambda c: alerts(c, args.all), False, render)


def add_commands(ledger_commands: Any) -> None:
    """Add `po` and `reorder-alerts` to the `stockwire ledger` sub-commands."""
    db_help = "database URL or path to a SQLite ledger"
    po = ledger_commands.add_parser("po", help="purchase orders: list, show, submit, close")
    sub = po.add_subparsers(dest="po_command", required=True, metavar="COMMAND")
    lst = sub.add_parser("list", help="purchase orders, oldest first")
    lst.add_argument("--db", required=True, help=db_help)
    lst.add_argument("--status", choices=STATUSES)
    lst.add_argument("--json", action="store_true", help="print the API's answer")
    lst.set_defaults(handler=_list)
    for name, handler, what in (
        ("show", _show, "one purchase order with its lines and receipts (JSON)"),
        ("submit", _submit, "draft -> open: it can be received"),
        ("close", _close, "close by hand (short lines flagged); a draft is cancelled"),
    ):
        one = sub.add_parser(name, help=what)
        one.add_argument("ref")
        one.add_argument("--db", required=True, help=db_help)
        if name == "close":
            one.add_argument("--note", default="", help="why (kept on the order)")
        one.set_defaults(handler=handler)
    alerts = ledger_commands.add_parser("reorder-alerts", help="open reorder alerts")
    alerts.add_argument("--db", required=True, help=db_help)
    alerts.add_argument("--all", action="store_true", help="closed ones too")
    alerts.add_argument("--json", action="store_true", help="print the API's answer")
    alerts.set_defaults(handler=_alerts)
