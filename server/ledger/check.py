"""The invariant: every balance equals the sum of the movements into minus out of its key.

The check also reports values no booking can produce (a movement of 0 or fewer units, a
quantity that is not a whole number, a row naming a SKU or location that does not exist,
negative stock in a real location) instead of failing on them: it runs on damaged ledgers.
Reservations are checked too (server.reservations.audit).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import balances, locations, movements, skus
from server.reservations.audit import ReservationProblem, audit

Key = tuple[Any, Any, str]


@dataclass(frozen=True, slots=True)
class Mismatch:
    sku: str
    loc: str
    lot: str
    balance: int
    movements: int

    def __str__(self) -> str:
        lot = f" lot {self.lot!r}" if self.lot else ""
        return (
            f"{self.sku} at {self.loc}{lot}: balance {self.balance}, movements say {self.movements}"
        )


@dataclass(frozen=True, slots=True)
class Impossible:
    """A stored value no booking can produce."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _whole(value: Any) -> int | None:
    """An integer quantity as stored, or None when it is not one (SQLite stores anything)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float) and value == value and value % 1 == 0:
        return int(value)
    return None


def check(conn: Connection) -> list[Mismatch | Impossible | ReservationProblem]:
    sku_names = {i: str(n) for i, n in conn.execute(select(skus.c.id, skus.c.sku))}
    locs = {r.id: r for r in conn.execute(select(locations))}

    def sku(sku_id: Any) -> str:
        return sku_names.get(sku_id, f"unknown sku id {sku_id!r}")

    def loc(loc_id: Any) -> str:
        row = locs.get(loc_id)
        return str(row.code) if row is not None else f"unknown location id {loc_id!r}"

    bad: list[Mismatch | Impossible | ReservationProblem] = []
    expected: dict[Key, int] = defaultdict(int)
    m = movements.c
    query = select(m.id, m.sku_id, m.from_loc_id, m.to_loc_id, m.lot, m.qty).order_by(m.id)
    for row in conn.execute(query):
        qty = _whole(row.qty)
        lot = row.lot if isinstance(row.lot, str) else str(row.lot)
        where = f"movement {row.id}"
        if qty is None or qty <= 0:
            bad.append(Impossible(where, f"qty {row.qty!r} (a movement moves 1 or more units)"))
            continue
        for loc_id in (row.from_loc_id, row.to_loc_id):
            if loc_id not in locs:
                bad.append(Impossible(where, f"names {loc(loc_id)}"))
        if row.sku_id not in sku_names:
            bad.append(Impossible(where, f"names {sku(row.sku_id)}"))
        expected[(row.sku_id, row.to_loc_id, lot)] += qty
        expected[(row.sku_id, row.from_loc_id, lot)] -= qty
    actual: dict[Key, int] = {}
    b = balances.c
    for row in conn.execute(select(b.id, b.sku_id, b.loc_id, b.lot, b.on_hand, b.reserved)):
        lot = row.lot if isinstance(row.lot, str) else str(row.lot)
        where = f"balance {row.id} ({sku(row.sku_id)} at {loc(row.loc_id)})"
        on_hand, reserved = _whole(row.on_hand), _whole(row.reserved)
        if on_hand is None:
            bad.append(Impossible(where, f"on_hand {row.on_hand!r} is not a whole number"))
            continue
        if reserved is None or reserved < 0:
            bad.append(Impossible(where, f"reserved {row.reserved!r}"))
        place = locs.get(row.loc_id)
        if place is not None and place.covered and place.negative != "allow" and on_hand < 0:
            bad.append(Impossible(where, f"on_hand {on_hand}: stock here cannot go below 0"))
        actual[(row.sku_id, row.loc_id, lot)] = on_hand
    for key in sorted(set(expected) | set(actual), key=lambda k: (sku(k[0]), loc(k[1]), k[2])):
        want, have = expected.get(key, 0), actual.get(key, 0)
        if want != have:
            sku_id, loc_id, lot = key
            bad.append(Mismatch(sku(sku_id), loc(loc_id), lot, have, want))
    return bad + audit(conn)  # reserved = what open reservations hold, never over on hand
