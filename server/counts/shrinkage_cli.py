"""`stockwire report shrinkage [--from T] [--to T] [--csv|--json]`: the shrinkage report of
`GET /v1/reports/shrinkage` (count and adjustment losses net of gains, per SKU, valued at its
unit cost) as a table, CSV or the API's JSON. Exit 1 for a bad period, 2 when the database
cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

_COLUMNS = (
    ("SKU", "sku"),
    ("unit cost", "unit_cost"),
    ("count loss", "count_loss"),
    ("count gain", "count_gain"),
    ("adj loss", "adjustment_loss"),
    ("adj gain", "adjustment_gain"),
    ("shrinkage", "shrinkage_qty"),
    ("value", "shrinkage_value"),
)


def shrinkage_table(doc: dict[str, Any]) -> str:
    from server.reports.cli import table

    head = f"Shrinkage {doc['from'] or 'start'} .. {doc['to'] or 'now'} (exclusive)"
    rows = [[line[key] for _, key in _COLUMNS] for line in doc["skus"]]
    total = doc["total"]
    rows.append(["TOTAL", "", "", "", "", "", total["shrinkage_qty"], total["shrinkage_value"]])
    return head + "\n" + table([name for name, _ in _COLUMNS], rows)


def _shrinkage(args: argparse.Namespace) -> int:
    import json

    from server.counts import shrinkage
    from server.reports.cli import read_ledger

    def read(conn: Connection) -> dict[str, Any]:
        return shrinkage.report(conn, *shrinkage.period(args.start, args.end))

    code, doc = read_ledger("report shrinkage", args.db, read)
    if doc is None:
        return code
    if args.csv:
        sys.stdout.write(shrinkage.to_csv(doc))
    else:
        print(json.dumps(doc, indent=2) if args.json else shrinkage_table(doc))
    return 0


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or time") from None


def add_command(report_commands: Any) -> None:
    """Add `shrinkage` to the `stockwire report` sub-commands."""
    cmd = report_commands.add_parser("shrinkage", help="stock lost without a sale, per SKU")
    cmd.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    cmd.add_argument("--from", dest="start", type=_time, help="first day or time (UTC if bare)")
    cmd.add_argument("--to", dest="end", type=_time, help="day or time after the last")
    fmt = cmd.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="CSV (one row per SKU and TOTAL)")
    fmt.add_argument("--json", action="store_true", help="the API's JSON")
    cmd.set_defaults(handler=_shrinkage)
