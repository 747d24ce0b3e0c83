"""The invariant: every balance equals the sum of the movements into minus out of its key."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from server.db.schema import balances, locations, movements, skus

Key = tuple[int, int, str]


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


def check(conn: Connection) -> list[Mismatch]:
    expected: dict[Key, int] = defaultdict(int)
    m = movements.c
    for col, sign in ((m.to_loc_id, 1), (m.from_loc_id, -1)):
        query = select(m.sku_id, col, m.lot, func.sum(m.qty)).group_by(m.sku_id, col, m.lot)
        for sku_id, loc_id, lot, qty in conn.execute(query):
            expected[(sku_id, loc_id, lot)] += sign * int(qty)
    actual: dict[Key, int] = {
        (r.sku_id, r.loc_id, r.lot): int(r.on_hand)
        for r in conn.execute(
            select(balances.c.sku_id, balances.c.loc_id, balances.c.lot, balances.c.on_hand)
        )
    }
    sku_names = dict(conn.execute(select(skus.c.id, skus.c.sku)).all())
    loc_names = dict(conn.execute(select(locations.c.id, locations.c.code)).all())
    bad = []
    for key in sorted(set(expected) | set(actual)):
        want, have = expected.get(key, 0), actual.get(key, 0)
        if want != have:
            sku_id, loc_id, lot = key
            bad.append(Mismatch(sku_names[sku_id], loc_names[loc_id], lot, have, want))
    return bad
