"""`stockwire report kpis|valuation`: the KPI and valuation reports on the command line
(`report shrinkage` is `server.counts.shrinkage_cli`).

Both read the ledger named by --db (a SQLite path or a database URL) and print a table, or
the API's JSON (`--json`) or CSV (`report kpis --csv`). Exit 0 on success, 1 when the ledger
refuses the request (a bad period, an unknown SKU), 2 when the database cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")


def read_ledger(command: str, db_arg: str, fn: Callable[[Connection], T]) -> tuple[int, T | None]:
    """(0, fn(conn)) in one read transaction on --db; else (exit code, None) after printing
    one line on stderr (server.ledger.command.execute)."""
    from server.ledger.command import execute

    return execute(command, db_arg, fn, write=False)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell: the first left-aligned, the others right."""
    cells = [[("-" if c is None else str(c)) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        padded = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


_KPI_COLUMNS = (
    ("SKU", "sku"),
    ("received", "units_received"),
    ("sold", "units_sold"),
    ("on hand", "on_hand"),
    ("closing", "closing_value"),
    ("avg inv", "average_inventory_value"),
    ("COGS", "cogs"),
    ("shrinkage", "shrinkage_value"),
    ("turns", "inventory_turnover"),
    ("sell-thru %", "sell_through_pct"),
    ("units/day", "sales_velocity"),
    ("cover days", "days_of_cover"),
    ("carrying", "carrying_cost"),
    ("shrink %", "shrinkage_rate_pct"),
)


def _ratio(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, float) else value


def kpi_table(doc: dict[str, Any]) -> str:
    head = (
        f"KPIs {doc['from']} .. {doc['to']} (exclusive, {doc['days']} days), "
        f"{doc['method']}, {doc['currency']}, carrying rate {doc['carrying_rate']}/year"
    )
    rows = [[_ratio(item[key]) for _, key in _KPI_COLUMNS] for item in doc["skus"]]
    rows.append([_ratio(doc["total"][key]) for _, key in _KPI_COLUMNS])
    return head + "\n" + table([name for name, _ in _KPI_COLUMNS], rows)


def valuation_table(doc: dict[str, Any]) -> str:
    when = f"as of {doc['as_of']}" if doc["as_of"] else "now"
    head = f"Valuation {when}, {doc['method']}, {doc['currency']}"
    rows = [[r["sku"], r["qty"], r["unit_cost"], r["value"]] for r in doc["skus"]]
    rows.append(["TOTAL", "", "", doc["total"]])
    return head + "\n" + table(["SKU", "qty", "unit cost", "value"], rows)


def _kpis(args: argparse.Namespace) -> int:
    from server.reports.kpis import kpis, to_csv

    code, doc = read_ledger(
        "report kpis", args.db, lambda conn: kpis(conn, args.start, args.end, args.sku)
    )
    if doc is None:
        return code
    if args.csv:
        sys.stdout.write(to_csv(doc))
    elif args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(kpi_table(doc))
    return 0


def _valuation(args: argparse.Namespace) -> int:
    from server.valuation.routes import parse_as_of
    from server.valuation.service import valuation

    def read(conn: Connection) -> dict[str, Any]:
        until, label = parse_as_of(args.as_of)
        return {**valuation(conn, until), "as_of": label}

    code, doc = read_ledger("report valuation", args.db, read)
    if doc is None:
        return code
    print(json.dumps(doc, indent=2) if args.json else valuation_table(doc))
    return 0


def day_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def add_commands(commands: Any) -> None:
    report = commands.add_parser("report", help="inventory reports (KPIs, valuation, shrinkage)")
    sub = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    kpi = sub.add_parser("kpis", help="turnover, sell-through, cover, carrying cost, shrinkage")
    kpi.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    kpi.add_argument("--from", dest="start", required=True, type=day_arg, help="first day")
    kpi.add_argument("--to", dest="end", required=True, type=day_arg, help="day after the last")
    kpi.add_argument("--sku", help="one SKU only")
    fmt = kpi.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="CSV (one row per SKU and TOTAL)")
    fmt.add_argument("--json", action="store_true", help="the API's JSON")
    kpi.set_defaults(handler=_kpis)
    val = sub.add_parser("valuation", help="stock value per SKU under the company's method")
    val.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    val.add_argument("--as-of", help="YYYY-MM-DD (end of day) or an ISO date-time")
    val.add_argument("--json", action="store_true", help="the API's JSON")
    val.set_defaults(handler=_valuation)
    from server.counts.shrinkage_cli import add_command as add_shrinkage

    add_shrinkage(sub)
