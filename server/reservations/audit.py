"""What `stockwire ledger check` proves about reservations: balances.reserved of every SKU ×
location equals what open reservation lines hold there, nothing is reserved on a lot row or
by a line that is no longer open, and where negative stock is refused nothing is reserved
beyond what is on hand. Runs on damaged ledgers: it reports, it does not fail."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import balances, locations, reservation_holds, reservations, skus

_Key = tuple[Any, Any]


@dataclass(frozen=True, slots=True)
class ReservationProblem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == value else None


def audit(conn: Connection) -> list[ReservationProblem]:
    sku_names = {i: str(n) for i, n in conn.execute(select(skus.c.id, skus.c.sku))}
    locs = {r.id: r for r in conn.execute(select(locations))}

    def name(key: _Key) -> str:
        sku_id, loc_id = key
        place = locs.get(loc_id)
        return f"{sku_names.get(sku_id, f'sku id {sku_id!r}')} at " + (
            str(place.code) if place is not None else f"location id {loc_id!r}"
        )

    bad: list[ReservationProblem] = []
    on_hand: dict[_Key, int] = defaultdict(int)
    reserved: dict[_Key, int] = defaultdict(int)
    b = balances.c
    for row in conn.execute(select(b.id, b.sku_id, b.loc_id, b.lot, b.on_hand, b.reserved)):
        key = (row.sku_id, row.loc_id)
        held, have = _int(row.reserved), _int(row.on_hand)
        on_hand[key] += have or 0
        if held is None:
            continue  # ledger check reports it already
        reserved[key] += held
        if held and row.lot != "":
            where = f"balance {row.id} ({name(key)} lot {row.lot!r})"
            bad.append(ReservationProblem(where, f"reserved {held}: only the lot-less row holds"))
    expected: dict[_Key, int] = defaultdict(int)
    orders: dict[_Key, list[str]] = defaultdict(list)
    h, r = reservation_holds.c, reservations.c
    query = (
        select(h.id, h.sku_id, h.loc_id, h.reserved, r.order_ref, r.status, r.sku_id.label("line"))
        .join(reservations, r.id == h.reservation_id)
        .order_by(r.order_ref, h.id)
    )
    for line in conn.execute(query):
        key = (line.sku_id, line.loc_id)
        held = _int(line.reserved)
        where = f"reservation {line.order_ref} ({name(key)})"
        if held is None or held < 0 or line.sku_id != line.line:
            what = f"holds {line.reserved!r} of sku id {line.sku_id}"
            bad.append(ReservationProblem(where, what))
        elif held and line.status != "open":
            bad.append(ReservationProblem(where, f"is {line.status} but still holds {held}"))
        elif held:
            expected[key] += held
            orders[key].append(f"{line.order_ref} {held}")
    for key in sorted(set(expected) | set(reserved), key=name):
        want, have = expected.get(key, 0), reserved.get(key, 0)
        if want != have:
            says = ", ".join(orders[key]) or "none"
            what = f"reserved {have}, open reservations say {want} ({says})"
            bad.append(ReservationProblem(name(key), what))
        place = locs.get(key[1])
        refuses = place is not None and place.covered and place.negative != "allow"
        if refuses and have > max(0, on_hand[key]):
            what = f"reserved {have} but {on_hand[key]} on hand: promised twice"
            bad.append(ReservationProblem(name(key), what))
    return bad
