"""`stockwire ledger stock [--sku S] [--loc L] [--under NODE]`: balances as `GET /v1/stock`.

One line per (SKU, location, lot) with on hand, reserved, safety stock and available; with
`--under`, the rows of the node's subtree and a total per SKU. `--json`: the API's answer.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Connection

from server.ledger.command import loaded, or_json, run, shown
from server.reports.cli import table

_COLUMNS = (
    ("SKU", "sku"),
    ("location", "loc"),
    ("lot", "lot"),
    ("expiry", "expiry"),
    ("on hand", "on_hand"),
    ("reserved", "reserved"),
    ("safety", "safety_stock"),
    ("available", "available"),
)


def text(doc: dict[str, Any]) -> str:
    if not doc["stock"]:
        return "(no stock)"
    rows = [[shown(r[key]) for _, key in _COLUMNS] for r in doc["stock"]]
    out = table([name for name, _ in _COLUMNS], rows)
    if "totals" in doc:
        totals = [[t["sku"], t["on_hand"], t["reserved"], t["available"]] for t in doc["totals"]]
        out += f"\n\nunder {doc['under']}:\n"
        out += table(["SKU", "on hand", "reserved", "available"], totals)
    return out


def _stock(args: argparse.Namespace) -> int:
    from server.ledger.stock import stock

    def fn(conn: Connection) -> dict[str, Any]:
        return stock(conn, args.sku, args.loc, args.virtual, args.zero, args.under)

    return run("ledger stock", args.db, fn, False, or_json(text, args.json))


def add_commands(ledger_commands: Any) -> None:
    """Add `stock` to the `stockwire ledger` sub-commands."""
    from server.cli import _identifier

    stock = ledger_commands.add_parser(
        "stock", help="balances: on hand, reserved, safety stock, available"
    )
    stock.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    stock.add_argument("--sku", type=_identifier, help="one SKU only")
    stock.add_argument("--loc", type=_identifier, help="one location only")
    stock.add_argument("--under", type=_identifier, help="a node's subtree, with totals per SKU")
    stock.add_argument("--virtual", action="store_true", help="virtual locations too")
    stock.add_argument("--zero", action="store_true", help="rows with nothing in them too")
    stock.add_argument("--json", action="store_true", help="print the API's answer")
    stock.set_defaults(handler=loaded(_stock))
