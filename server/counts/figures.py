"""A count's figures, pure: count lines in, review lines and the variance to book out.

A count line is one (SKU, bin, lot): the on hand snapshot when the count saw it first, the
quantity expected at the count moment T1, what the counters counted (per device). A review line
is what a reviewer approves:

- normally one per count line (lot mode), variance = counted − expected, and a line nobody
  scanned counts as 0 (a *blind zero*);
- but when a SKU's lot-less line at a bin was scanned (a plain EAN, no lot on the label) while
  the SKU also has lots there, the counter could not tell the lots apart: that SKU's lines at the
  bin become ONE review line over all its lots (`all_lots`), whose loss is booked first-expiry
  first (FEFO) and whose gain goes to the lot-less stock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Line:
    """One count line with its figures (expected is None when not known: a cancelled count)."""

    sku: str
    sku_id: int
    loc: str
    loc_id: int
    sheet_id: int
    lot: str
    snapshot: int
    expected: int | None
    counted: int
    unit_cost: Decimal
    counted_at: datetime | None  # this line's T1; None while it is being counted
    devices: dict[str, int] = field(default_factory=dict)
    line_id: int | None = None  # None: implied (stock in scope the count holds no line for)
    frozen: bool = False  # booked before (a sheet closed before cycle counts existed)

    @property
    def scanned(self) -> bool:
        return bool(self.devices) or self.counted != 0


@dataclass(frozen=True, slots=True)
class Review:
    sku: str
    sku_id: int
    loc: str
    loc_id: int
    lot: str
    all_lots: bool
    snapshot: int
    expected: int | None
    counted: int
    unit_cost: Decimal
    counted_at: datetime | None
    devices: dict[str, int]
    blind_zero: bool
    frozen: bool

    @property
    def variance(self) -> int | None:
        return None if self.expected is None else self.counted - self.expected

    @property
    def value(self) -> Decimal | None:
        variance = self.variance
        return None if variance is None else variance * self.unit_cost


def _one(line: Line) -> Review:
    return Review(
        line.sku,
        line.sku_id,
        line.loc,
        line.loc_id,
        line.lot,
        False,
        line.snapshot,
        line.expected,
        line.counted,
        line.unit_cost,
        line.counted_at,
        dict(line.devices),
        not line.scanned,
        line.frozen,
    )


def _merged(lines: list[Line], loose: Line) -> Review:
    devices: dict[str, int] = defaultdict(int)
    for line in lines:
        for dev, qty in line.devices.items():
            devices[dev] += qty
    known = [line.expected for line in lines]
    expected = None if any(e is None for e in known) else sum(e or 0 for e in known)
    return Review(
        loose.sku,
        loose.sku_id,
        loose.loc,
        loose.loc_id,
        "",
        True,
        sum(line.snapshot for line in lines),
        expected,
        sum(line.counted for line in lines),
        loose.unit_cost,
        loose.counted_at,
        dict(sorted(devices.items())),
        False,
        all(line.frozen for line in lines),
    )


def review(lines: list[Line]) -> list[Review]:
    """Review lines sorted by bin, SKU and lot (see the module docstring)."""
    groups: dict[tuple[int, int], list[Line]] = defaultdict(list)
    for line in lines:
        groups[(line.sku_id, line.loc_id)].append(line)
    out: list[Review] = []
    for members in groups.values():
        loose = next((m for m in members if m.lot == "" and m.scanned), None)
        if loose is not None and any(m.lot != "" for m in members):
            out.append(_merged(members, loose))
        else:
            out += [_one(m) for m in members]
    return sorted(out, key=lambda r: (r.loc, r.sku, r.lot))


@dataclass(frozen=True, slots=True)
class Booking:
    """A variance to book: `gain` into the bin from count-adjustment, else out of it."""

    sku_id: int
    loc_id: int
    lot: str | None  # None: take first-expiry first (FEFO)
    qty: int
    gain: bool
    at: datetime | None


def bookings(reviewed: list[Review]) -> list[Booking]:
    out = []
    for r in reviewed:
        variance = r.variance
        if not variance or r.frozen:
            continue
        lot = None if r.all_lots and variance < 0 else r.lot
        out.append(Booking(r.sku_id, r.loc_id, lot, abs(variance), variance > 0, r.counted_at))
    return out
