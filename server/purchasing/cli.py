"""`stockwire ledger po list|show|submit|close` and `stockwire ledger reorder-alerts`.

`list` and `reorder-alerts` print one line per row (`--json`: the API's answer); `show`,
`submit` and `close` print the purchase order as JSON. Exit 1 when the ledger refuses (an
unknown reference, not a draft, already closed), 2 when the database cannot be opened.
"""

from __future__ import annotations

import argparse
from typing import Any

from server.ledger.command import as_json, lines, run
from server.purchasing.service import STATUSES


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

    render = lines("purchase_orders", _po_line, args.json)
    return run("ledger po list", args.db, lambda c: list_all(c, args.status), False, render)


def _show(args: argparse.Namespace) -> int:
    from server.purchasing.service import get

    return run("ledger po show", args.db, lambda c: get(c, args.ref), False, as_json)


def _submit(args: argparse.Namespace) -> int:
    from server.purchasing.service import submit

    return run("ledger po submit", args.db, lambda c: submit(c, args.ref), True, as_json)


def _close(args: argparse.Namespace) -> int:
    from server.purchasing.service import close

    return run("ledger po close", args.db, lambda c: close(c, args.ref, args.note), True, as_json)


def _alerts(args: argparse.Namespace) -> int:
    from server.reorder.service import alerts

    render = lines("alerts", _alert_line, args.json)
    return run("ledger reorder-alerts", args.db, lambda c: alerts(c, args.all), False, render)


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
