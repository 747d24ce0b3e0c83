"""`stockwire ledger reserve ORDER SKU=QTY[@LOC] ...` and `stockwire ledger reservation
show|list|cancel`: channel-order reservations, as `/v1/reservations...`.

`reserve` holds stock for every line or none (`POST /v1/reservations`: idempotent per order and
SKU; a line without `@LOC` is held where the most is available). `cancel ORDER [--sku S]`
releases an order (or one line). `show` and `reserve` print the order's lines; `list` one line
per reservation line. `--json`: the API's answer.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from server.ledger.command import lines, loaded, or_json, run, validated

STATUSES = ("open", "cancelled", "consumed")  # as GET /v1/reservations?status=
_LINE = re.compile(r"(?P<sku>.+)=(?P<qty>[0-9]+)(?:@(?P<loc>.+))?")


def _line_text(x: dict[str, Any]) -> str:
    held = ", ".join(f"{h['loc']} {h['reserved']}" for h in x["locations"] if h["reserved"])
    short = f", {x['short']} short" if x["short"] else ""
    return (
        f"{x['order']:<16} {x['sku']:<12} {x['status']:<9} qty {x['qty']}: reserved "
        f"{x['reserved']}, picked {x['consumed']}{short}" + (f"  ({held})" if held else "")
    )


def order_text(doc: dict[str, Any]) -> str:
    again = "  (already reserved: nothing more held)" if doc.get("replayed") else ""
    head = f"order {doc['order']} ({doc['channel'] or 'no channel'}): {doc['status']}{again}"
    return "\n".join([head, *(_line_text(x) for x in doc["lines"])])


def _pair(text: str) -> dict[str, Any]:
    found = _LINE.fullmatch(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not SKU=QTY or SKU=QTY@LOC")
    return {k: int(v) if k == "qty" else v for k, v in found.groupdict().items() if v is not None}


def _reserve(args: argparse.Namespace) -> int:
    from server.reservations.routes import ReservationBody
    from server.reservations.service import LineIn, create

    command = "ledger reserve"
    doc = {"order": args.order, "channel": args.channel, "lines": args.lines}
    body = validated(command, ReservationBody, doc)
    if body is None:
        return 1
    wanted = [LineIn(x.sku, x.qty, x.loc) for x in body.lines]

    def fn(conn: Any) -> dict[str, Any]:
        return create(conn, body.order, body.channel or "", wanted)

    return run(command, args.db, fn, True, or_json(order_text, args.json))


def _show(args: argparse.Namespace) -> int:
    from server.reservations.service import get

    render = or_json(order_text, args.json)
    return run("ledger reservation show", args.db, lambda c: get(c, args.order), False, render)


def _cancel(args: argparse.Namespace) -> int:
    from server.reservations.service import cancel

    render = or_json(order_text, args.json)
    fn = lambda c: cancel(c, args.order, args.sku)  # noqa: E731
    return run("ledger reservation cancel", args.db, fn, True, render)


def _list(args: argparse.Namespace) -> int:
    from server.reservations.service import list_lines

    render = lines("reservations", _line_text, args.json)
    fn = lambda c: list_lines(c, args.status, args.sku, args.limit)  # noqa: E731
    return run("ledger reservation list", args.db, fn, False, render)


def _limit(text: str) -> int:
    from server.validation import MAX_LIMIT

    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"a limit is 1..{MAX_LIMIT}")
    return int(text)


def add_commands(ledger_commands: Any) -> None:
    """Add `reserve` and `reservation` to the `stockwire ledger` sub-commands."""
    from server.cli import _identifier

    reserve = ledger_commands.add_parser("reserve", help="reserve stock for a channel order")
    reserve.add_argument("order", help="the order's reference")
    reserve.add_argument("lines", nargs="+", type=_pair, metavar="SKU=QTY[@LOC]",
                         help="a line; @LOC holds it at that location")  # fmt: skip
    reserve.add_argument("--channel", help="the channel the order came from")
    reserve.set_defaults(handler=loaded(_reserve))
    res = ledger_commands.add_parser("reservation", help="reservations: show, list, cancel")
    sub = res.add_subparsers(dest="reservation_command", required=True, metavar="COMMAND")
    show = sub.add_parser("show", help="one order's reservation")
    show.set_defaults(handler=loaded(_show))
    cancel = sub.add_parser("cancel", help="cancel an order's reservation (or one line)")
    cancel.add_argument("--sku", type=_identifier, help="cancel this line only")
    cancel.set_defaults(handler=loaded(_cancel))
    for one in (show, cancel):
        one.add_argument("order", type=_identifier, help="the order's reference")
    lst = sub.add_parser("list", help="reservation lines, newest first")
    lst.add_argument("--status", choices=STATUSES)
    lst.add_argument("--sku", type=_identifier)
    lst.add_argument("--limit", type=_limit, default=1000)
    lst.set_defaults(handler=loaded(_list))
    for one in (reserve, show, cancel, lst):
        one.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
        one.add_argument("--json", action="store_true", help="print the API's answer")
