"""`stockwire ledger quarantine list|map|replay`: refused scans, as `/v1/quarantine...`.

`list` prints one line per entry; `map QID --sku S` teaches the catalog the entry's GTIN and
replays every open entry refused for it (`POST /v1/quarantine/{qid}/map`); `replay QID` books
one entry again once its cause is fixed. A replay refused again leaves the entry open with its
new reason (shown; exit 0, as the API answers 200). `--json`: the API's answer.
"""

from __future__ import annotations

import argparse
from typing import Any, get_args

from server.ledger.command import lines, loaded, or_json, run, shown, validated
from server.validation import QuarantineStatus


def _entry_line(e: dict[str, Any]) -> str:
    why = "" if e["status"] == "replayed" else f"  {e['reason']}: {e['detail']}"
    return (
        f"#{e['id']:<5} {e['status']:<8} {e['mode'] or '-':<10} {shown(e['loc']):<12} "
        f"qty {shown(e['qty'])}  code {e['code']!r}  attempts {e['attempts']}{why}"
    )


def _mapped(doc: dict[str, Any]) -> str:
    head = f"GTIN {doc['gtin14']} -> {doc['sku']} x{doc['multiplier']}"
    booked = sum(e["status"] == "replayed" for e in doc["replayed"])
    return "\n".join(
        [f"{head}: {booked} of {len(doc['replayed'])} entries booked"]
        + [_entry_line(e) for e in doc["replayed"]]
    )


def _list(args: argparse.Namespace) -> int:
    from server.quarantine.service import list_all

    render = lines("entries", _entry_line, args.json)
    return run("ledger quarantine list", args.db, lambda c: list_all(c, args.status), False, render)


def _map(args: argparse.Namespace) -> int:
    from server.quarantine.routes import MapBody
    from server.quarantine.service import map_code

    command = "ledger quarantine map"
    body = validated(command, MapBody, {"sku": args.sku, "multiplier": args.multiplier})
    if body is None:
        return 1

    def fn(conn: Any) -> dict[str, Any]:
        return map_code(conn, args.qid, body.sku, body.multiplier)

    return run(command, args.db, fn, True, or_json(_mapped, args.json))


def _replay(args: argparse.Namespace) -> int:
    from server.quarantine.service import replay

    render = or_json(_entry_line, args.json)
    return run("ledger quarantine replay", args.db, lambda c: replay(c, args.qid), True, render)


def _qid(text: str) -> int:
    from server.validation import MAX_ID

    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not a quarantine entry id")
    return int(text)


def add_commands(ledger_commands: Any) -> None:
    """Add `quarantine` to the `stockwire ledger` sub-commands."""
    db_help = "database URL or path to a SQLite ledger"
    q = ledger_commands.add_parser("quarantine", help="refused scans: list, map, replay")
    sub = q.add_subparsers(dest="quarantine_command", required=True, metavar="COMMAND")
    lst = sub.add_parser("list", help="refused scan events, oldest first")
    lst.add_argument("--status", choices=get_args(QuarantineStatus))
    lst.set_defaults(handler=loaded(_list))
    mapping = sub.add_parser(
        "map", help="map an unknown barcode to a SKU and replay every open entry with its GTIN"
    )
    mapping.add_argument("--sku", required=True, help="the SKU the GTIN belongs to")
    mapping.add_argument("--multiplier", type=int, default=1, help="units one read stands for")
    mapping.set_defaults(handler=loaded(_map))
    replay = sub.add_parser("replay", help="book an entry again once its cause is fixed")
    replay.set_defaults(handler=loaded(_replay))
    for one in (mapping, replay):
        one.add_argument("qid", type=_qid, help="the entry's id (quarantine list)")
    for one in (lst, mapping, replay):
        one.add_argument("--db", required=True, help=db_help)
        one.add_argument("--json", action="store_true", help="print the API's answer")
