"""`stockwire ledger count open|list|show|submit|recount|approve|close|cancel`: cycle counts,
as `/v1/counts...`.

`open REF --loc L [--loc ...] [--sku S ...] [--blind]` opens a scoped count (a zone or
warehouse stands for every bin below it); counters then scan in mode `count` with the
reference. `submit` ends counting (the count moment T1), `approve` books the variances of a
count in review, `close` does both, `recount REF --line SKU LOC` sends lines back to counting,
`cancel` ends a count booking nothing. Each prints the count's review lines (figures hidden
while a blind count is open); `list` prints one line per count. `--json`: the API's answer.
"""

from __future__ import annotations

import argparse
from typing import Any

from server.ledger.command import lines, loaded, or_json, run, shown, validated
from server.reports.cli import table

STATUSES = ("open", "review", "closed", "cancelled")


def _summary_line(c: dict[str, Any]) -> str:
    blind = "blind" if c["blind"] else "-"
    return (
        f"{c['ref']:<16} {c['kind']:<7} {blind:<5} {c['status']:<9} opened {c['opened_at']}  "
        f"counted {shown(c['counted_at'])}  closed {shown(c['closed_at'])}"
    )


def _cells(x: dict[str, Any]) -> list[tuple[str, Any]]:
    """One review line's columns: (header, value); None shows as '-' (hidden, unknown)."""
    return [
        ("SKU", x["sku"]),
        ("location", x["loc"]),
        ("lot", "(all)" if x["all_lots"] else x["lot"]),
        ("snapshot", x["snapshot"]),
        ("expected", x["expected"]),
        ("counted", f"{x['counted']}{' (blind zero)' if x['blind_zero'] else ''}"),
        ("variance", x["variance"]),
        ("value", x["value"]),
        ("status", x["status"]),
    ]


def count_text(doc: dict[str, Any]) -> str:
    """The count with its review lines, totals and notes."""
    scope = ", ".join(doc["locations"])
    skus = ", ".join(doc["skus"]) if doc["skus"] is not None else "all"
    out = [_summary_line(doc), f"bins: {scope}  SKUs: {skus}"]
    if doc["lines"]:
        rows = [[shown(cell) for _, cell in _cells(x)] for x in doc["lines"]]
        out.append(table([name for name, _ in _cells(doc["lines"][0])], rows))
    t = doc["totals"]
    out.append(
        f"{t['lines']} line(s), {t['blind_zero']} blind zero, variance {shown(t['variance'])}, "
        f"value {shown(t['value'])}"
    )
    out += [f"note: {note}" for note in doc["notes"]]
    return "\n".join(out)


def _booked_text(doc: dict[str, Any]) -> str:
    booked = [
        f"  {b['sku']} at {b['loc']}{' lot ' + b['lot'] if b['lot'] else ''}: {b['variance']:+d}"
        for b in doc["booked"]
    ]
    return "\n".join([f"booked {len(booked)} variance(s)", *booked, count_text(doc["count"])])


def _open(args: argparse.Namespace) -> int:
    from server.counts.routes import OpenCount
    from server.counts.service import open_count

    command = "ledger count open"
    doc = {"ref": args.ref, "locations": args.loc, "skus": args.sku, "blind": args.blind}
    body = validated(command, OpenCount, doc)
    if body is None:
        return 1

    def fn(conn: Any) -> dict[str, Any]:
        return open_count(conn, body.ref, body.locations, body.skus, body.blind)

    return run(command, args.db, fn, True, or_json(count_text, args.json))


def _list(args: argparse.Namespace) -> int:
    from server.counts.review import summaries

    render = lines("counts", _summary_line, args.json)
    return run("ledger count list", args.db, lambda c: summaries(c, args.status), False, render)


def _recount(args: argparse.Namespace) -> int:
    from server.counts.routes import Recount
    from server.counts.service import recount

    command = "ledger count recount"
    doc = {"lines": [{"sku": sku, "loc": loc} for sku, loc in args.line]}
    body = validated(command, Recount, doc)
    if body is None:
        return 1
    pairs = [(x.sku, x.loc) for x in body.lines]
    render = or_json(count_text, args.json)
    return run(command, args.db, lambda c: recount(c, args.ref, pairs), True, render)


def _one(name: str) -> Any:
    """`count show|submit|approve|close|cancel REF`: the service function of the same route."""

    def handler(args: argparse.Namespace) -> int:
        from server.counts import service

        fn = {"show": service.get, "submit": service.submit, "approve": service.approve,
              "close": service.close_all, "cancel": service.cancel}[name]  # fmt: skip
        text = _booked_text if name in ("approve", "close") else count_text
        render = or_json(text, args.json)
        return run(f"ledger count {name}", args.db, lambda c: fn(c, args.ref), name != "show",
                   render)  # fmt: skip

    return handler


def add_commands(ledger_commands: Any) -> None:
    """Add `count` to the `stockwire ledger` sub-commands."""
    from server.cli import _identifier

    count = ledger_commands.add_parser("count", help="cycle counts: open, review, approve")
    sub = count.add_subparsers(dest="count_command", required=True, metavar="COMMAND")
    opening = sub.add_parser("open", help="open a scoped count (snapshots on hand)")
    opening.add_argument("--loc", action="append", required=True,
                         help="a bin, zone or warehouse (repeat for more)")  # fmt: skip
    opening.add_argument("--sku", action="append", help="count only these SKUs (repeat)")
    opening.add_argument("--blind", action="store_true", help="hide expected until submitted")
    opening.set_defaults(handler=loaded(_open))
    lst = sub.add_parser("list", help="cycle counts, newest first")
    lst.add_argument("--status", choices=STATUSES)
    lst.set_defaults(handler=loaded(_list))
    recount = sub.add_parser("recount", help="send (SKU, bin) lines of a count back to counting")
    recount.add_argument("--line", nargs=2, action="append", required=True,
                         metavar=("SKU", "LOC"), help="a line to recount (repeat)")  # fmt: skip
    recount.set_defaults(handler=loaded(_recount))
    commands = [opening, lst, recount]
    for name, what in (
        ("show", "a count with its review lines"),
        ("submit", "end counting now (the count moment T1): to review"),
        ("approve", "book the variances of a count in review and close it"),
        ("close", "submit (if open) and approve in one step"),
        ("cancel", "end an open or reviewed count, booking nothing"),
    ):
        one = sub.add_parser(name, help=what)
        one.set_defaults(handler=loaded(_one(name)))
        commands.append(one)
    for one in commands:
        if one is not lst:
            one.add_argument("ref", type=_identifier, help="the count's reference")
        one.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
        one.add_argument("--json", action="store_true", help="print the API's answer")
