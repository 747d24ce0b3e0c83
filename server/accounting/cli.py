"""`stockwire ledger export-beancount --db DB -o FILE [--from DAY] [--to DAY]`.

Writes the Beancount journal of the valuation (server.accounting.export) to FILE; check it with
`bean-check FILE`. Exit 0 when written, 1 when the ledger refuses (a bad period), 2 when the
database cannot be read or the file cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _export(args: argparse.Namespace) -> int:
    from server.accounting.export import export
    from server.reports.cli import read_ledger

    command = "ledger export-beancount"
    code, done = read_ledger(command, args.db, lambda conn: export(conn, args.start, args.end))
    if done is None:
        return code
    try:
        Path(args.output).write_text(done.text, encoding="utf-8")
    except OSError as exc:
        print(f"stockwire {command}: cannot write {args.output}: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.output}: {done.skus} SKU(s), {done.opened} .. {done.as_of}, "
        f"Assets:Inventory {done.inventory:.4f} {done.currency}"
    )
    return 0


def add_export(ledger_commands: Any) -> None:
    """Add `export-beancount` to the `stockwire ledger` sub-commands."""
    from server.reports.cli import day_arg

    exp = ledger_commands.add_parser(
        "export-beancount", help="write the valuation as a Beancount journal (bean-check it)"
    )
    exp.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    exp.add_argument("-o", "--output", required=True, help="the journal file to write")
    exp.add_argument("--from", dest="start", type=day_arg, help="first day (earlier: carried in)")
    exp.add_argument("--to", dest="end", type=day_arg, help="the day after the last")
    exp.set_defaults(handler=_export)
