"""`stockwire ledger move KIND --sku S --qty N ...`: a movement booked by hand, as
`POST /v1/movements` (the same request model, idempotency keys and booking).

KIND is receive, pick, return, transfer, transfer-in or adjustment; the options fill the
request's fields: `--loc` is the bin (a transfer's `from`), `--to` a transfer's destination,
`--ref` the reference (a pick's `order`), `--reason` an adjustment's reason. A field the kind
does not take is refused as the API refuses it. Prints one line per movement row written (several
when the stock taken spans lots); `--json`: the API's answer.
"""

from __future__ import annotations

import argparse
from typing import Any

from server.ledger.command import loaded, or_json, run, validated

KINDS = ("receive", "pick", "return", "transfer", "transfer-in", "adjustment")


def _row_text(m: dict[str, Any]) -> str:
    extra = [
        f"{label} {m[key]}"
        for label, key in (("lot", "lot"), ("expiry", "expiry"), ("ref", "ref"),
                           ("reason", "reason"), ("cost", "unit_cost"), ("flags", "flags"))
        if m[key]
    ]  # fmt: skip
    return (
        f"#{m['id']} {m['kind']} {m['sku']} {m['qty']} {m['from']} -> {m['to']}  "
        f"at {m['event_at']}" + "".join(f"  {x}" for x in extra)
    )


def _answer_text(doc: dict[str, Any], replayed: bool) -> str:
    rows = [_row_text(m) for m in doc["movements"]]
    if replayed:
        rows.insert(0, f"idempotency key {doc['idempotency_key']!r} was used: nothing booked now")
    return "\n".join(rows)


def request(args: argparse.Namespace) -> dict[str, Any]:
    """The body of `POST /v1/movements` the options stand for (only the fields given)."""
    fields = {
        "loc": "from" if args.kind == "transfer" else "loc",
        "ref": "order" if args.kind == "pick" else "ref",
        "to": "to",
        "reason": "reason",
        "condition": "condition",
        "lot": "lot",
        "expiry": "expiry",
        "unit_cost": "unit_cost",
        "at": "at",
        "idempotency_key": "idempotency_key",
    }
    body: dict[str, Any] = {"kind": args.kind, "sku": args.sku, "qty": args.qty}
    body |= {
        name: getattr(args, opt) for opt, name in fields.items() if getattr(args, opt) is not None
    }
    if args.via_transit:
        body["via_transit"] = True
    return body


def _move(args: argparse.Namespace) -> int:
    from server.movements import service
    from server.movements.routes import MovementBody, _fingerprint, _manual

    command = "ledger move"
    body = validated(command, MovementBody, request(args))
    if body is None:
        return 1
    replayed = False

    def fn(conn: Any) -> dict[str, Any]:
        nonlocal replayed
        answer, replayed = service.post(conn, _manual(body), body.idempotency_key,
                                        _fingerprint(body))  # fmt: skip
        return answer

    return run(command, args.db, fn, True, or_json(lambda d: _answer_text(d, replayed), args.json))


def add_commands(ledger_commands: Any) -> None:
    """Add `move` to the `stockwire ledger` sub-commands."""
    move = ledger_commands.add_parser("move", help="book a movement by hand (POST /v1/movements)")
    move.add_argument("kind", choices=KINDS)
    move.add_argument("--sku", required=True)
    move.add_argument("--qty", required=True, type=int, help="units (an adjustment: signed)")
    move.add_argument("--loc", help="the bin (receive, pick, return, adjustment; transfer: from)")
    move.add_argument("--to", help="where a transfer or transfer-in goes")
    move.add_argument("--ref", "--order", dest="ref", help="reference (a pick: the order)")
    move.add_argument("--reason", help="adjustment: damaged, expired, theft, lost, found, ...")
    move.add_argument("--condition", help="return: resellable, damaged or quarantine")
    move.add_argument("--via-transit", action="store_true", help="transfer into in-transit/REF")
    move.add_argument("--lot")
    move.add_argument("--expiry", help="YYYY-MM-DD")
    move.add_argument("--unit-cost", help="receive: the unit cost")
    move.add_argument("--at", help="when it happened (an ISO time with its offset)")
    move.add_argument("--idempotency-key", help="book once per key")
    move.add_argument("--db", required=True, help="database URL or path to a SQLite ledger")
    move.add_argument("--json", action="store_true", help="print the API's answer")
    move.set_defaults(handler=loaded(_move))
