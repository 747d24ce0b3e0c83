"""Counts made before cycle counts existed (schema 0001): one `counts` row per (ref, bin) and
no count above them. At start-up each such reference becomes a spot count: closed when every
bin of it was closed (their booked variance kept as the lines' figures, T1 = when the bin was
closed), else open, its closed bins kept as they were (frozen: never booked again).
"""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import Connection, case, select

from server.counts.review import CLOSED, OPEN, SPOT
from server.db.schema import count_lines, counts, cycle_counts


def adopt(conn: Connection) -> int:
    """Give every count row without a cycle count one; returns how many were made."""
    rows = conn.execute(
        select(counts).where(counts.c.cycle_id.is_(None)).order_by(counts.c.ref, counts.c.id)
    ).all()
    made = 0
    for ref, group in groupby(rows, key=lambda r: r.ref):
        sheets = list(group)
        still_open = any(s.status == OPEN for s in sheets)
        opened = min(s.opened_at for s in sheets)
        ended = max((s.closed_at for s in sheets if s.closed_at is not None), default=opened)
        cycle_id = conn.execute(
            cycle_counts.insert()
            .values(
                ref=ref,
                kind=SPOT,
                blind=False,
                status=OPEN if still_open else CLOSED,
                opened_at=opened,
                counted_at=None if still_open else ended,
                closed_at=None if still_open else ended,
            )
            .returning(cycle_counts.c.id)
        ).scalar_one()
        conn.execute(
            counts.update().where(counts.c.id.in_([s.id for s in sheets])).values(cycle_id=cycle_id)
        )
        c = count_lines.c
        for sheet in sheets:
            if sheet.status == CLOSED:
                expected = case((c.variance.is_(None), c.snapshot), else_=c.counted - c.variance)
                conn.execute(
                    count_lines.update()
                    .where(c.count_id == sheet.id)
                    .values(expected=expected, counted_at=sheet.closed_at or ended)
                )
        made += 1
    return made
