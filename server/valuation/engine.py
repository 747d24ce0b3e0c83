"""Company-wide valuation of ONE SKU by replaying its value events in `seq` order.

This module owns the costing rules, nothing else: no database, no I/O. The caller gathers a
SKU's events (receipts, opening stock, gains, issues, cost revisions), numbers them with `seq`
in booking order and calls `value(events, "fifo" | "average")`.

Money is `Decimal`, quantized to 0.0001 (ROUND_HALF_EVEN) at every event, and every event's
effect is the exact change of the book's value, so the effects sum to the ending value with no
drift. Quantities are ints.

Rules:

* FIFO issues consume the oldest layers; "average" is the perpetual moving average (every inflow
  re-blends value / qty, issues leave the average unchanged).
* Current unit cost (used to value a `Gain` and any issue beyond the stock): average -> the
  running average value / qty (while qty <= 0: the last one, or the unit cost of an inflow
  that left qty <= 0); FIFO -> the unit cost of the layer most recently consumed or received
  ("last known cost"). Before any cost is known: `fallback_cost`. It is not rounded
  (`Valuation.unit_cost` reports it as is); only amounts are.
* Negative stock: an issue beyond what is on hand is costed at the current unit cost and the
  book goes negative (qty < 0, value < 0). The next inflow first fills the shortfall: inventory
  gets back exactly the value the shortfall was issued at (a proportional share if only part is
  filled), and the difference (inflow cost - that value) is a COGS correction posted on the
  inflow's effect. The rest of the inflow enters stock at its own cost. Hence value is 0
  whenever qty is 0, under both methods.
* Revisions: a `Revision` of receipt `key` replays the events before it with the revised unit
  cost for that receipt and compares with the book as it stands: the difference of ending value
  is its `inventory` effect (the revised quantity still on hand), the difference of total cost
  charged (issues + shortfall corrections) is its `cogs` effect (the revised quantity already
  issued; posted at the revision, earlier COGS is not rewritten). Later events use the revised
  cost; a second revision of the same key is relative to the first. A gain keeps the unit cost
  it was valued at when booked, so a revision's `inventory + cogs` is exactly the change of the
  receipt's amount: round(qty x new cost) - round(qty x old cost). The whole issued part goes
  to COGS, also for stock that left as shrinkage. Each revision replays the events before it.

Effects and their counter-accounts (the invariant a journal relies on): `inventory` is the
change of inventory value; `cogs` is debited to the effect's expense account (for an issue:
COGS for "issue:sale", shrinkage for other kinds, and it equals -inventory; for an inflow or a
revision: a COGS correction, usually 0). The counter-account is credited `inventory + cogs`:
goods received not invoiced for a receipt or a revision, opening equity for an opening, COGS
for a return, shrinkage for other gains; for an issue that amount is 0.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Literal, Protocol

Method = Literal["fifo", "average"]

CENT = Decimal("0.0001")
ZERO = Decimal("0.0000")
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Receipt:
    """Purchased stock in at `unit_cost`; `key` names it for later revisions (e.g. "m:123")."""

    seq: int
    at: datetime
    qty: int
    unit_cost: Decimal
    key: str


@dataclass(frozen=True)
class Opening:
    """Baseline (stocktake) stock in at a stated cost."""

    seq: int
    at: datetime
    qty: int
    unit_cost: Decimal


@dataclass(frozen=True)
class Gain:
    """Stock in without a purchase cost ("return", "count-gain"), valued at the current cost."""

    seq: int
    at: datetime
    qty: int
    kind: str


@dataclass(frozen=True)
class Issue:
    """Stock out ("sale", "shrinkage", "scrap", ...)."""

    seq: int
    at: datetime
    qty: int
    kind: str


@dataclass(frozen=True)
class Revision:
    """The invoice corrects the unit cost of receipt `key` (relative to its previous cost)."""

    seq: int
    at: datetime
    key: str
    unit_cost: Decimal


Event = Receipt | Opening | Gain | Issue | Revision
Inflow = Receipt | Opening | Gain


@dataclass(frozen=True)
class Effect:
    """What one event did to the books.

    `qty` is the signed change of quantity (negative for issues, 0 for revisions);
    `inventory` the change of inventory value; `cogs` the amount debited to the expense account
    (see the module docstring); the counter-account is credited `inventory + cogs`.
    """

    seq: int
    at: datetime
    kind: str
    qty: int
    inventory: Decimal
    cogs: Decimal


@dataclass(frozen=True)
class Valuation:
    """Effects, one per event in `seq` order, and the ending state."""

    effects: list[Effect]
    qty: int
    value: Decimal
    unit_cost: Decimal

    def value_at(self, at: datetime) -> Decimal:
        """Inventory value after all events with `at` <= the given time."""
        return sum((e.inventory for e in self.effects if e.at <= at), ZERO)

    def qty_at(self, at: datetime) -> int:
        """Quantity after all events with `at` <= the given time."""
        return sum(e.qty for e in self.effects if e.at <= at)


def q4(amount: Decimal) -> Decimal:
    """Quantize money to 0.0001, half-even."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _share(value: Decimal, part: int, whole: int) -> Decimal:
    """`part / whole` of `value`, exactly `value` when the whole is taken (no rounding dust)."""
    return value if part == whole else q4(value * part / whole)


class _Book(Protocol):
    charged: Decimal  # total cost charged: issues + shortfall corrections

    @property
    def qty(self) -> int: ...
    @property
    def value(self) -> Decimal: ...

    def inflow(self, qty: int, unit_cost: Decimal) -> None: ...
    def issue(self, qty: int) -> None: ...
    def unit_cost(self) -> Decimal: ...


@dataclass
class _Layer:
    qty: int
    value: Decimal
    unit_cost: Decimal


class _Fifo:
    """FIFO layers; a shortfall (negative stock) is one layer kept apart from the others."""

    def __init__(self, fallback: Decimal) -> None:
        self.layers: deque[_Layer] = deque()
        self.short = _Layer(0, ZERO, ZERO)  # qty issued beyond stock and the value it took
        self.last_cost: Decimal | None = None
        self.fallback = fallback
        self.charged = ZERO

    @property
    def qty(self) -> int:
        return sum(layer.qty for layer in self.layers) - self.short.qty

    @property
    def value(self) -> Decimal:
        return sum((layer.value for layer in self.layers), ZERO) - self.short.value

    def unit_cost(self) -> Decimal:
        return self.fallback if self.last_cost is None else self.last_cost

    def inflow(self, qty: int, unit_cost: Decimal) -> None:
        total = q4(qty * unit_cost)
        filled = min(qty, self.short.qty)
        if filled:
            cleared = _share(self.short.value, filled, self.short.qty)
            paid = q4(filled * unit_cost)
            self.charged += paid - cleared
            self.short = _Layer(self.short.qty - filled, self.short.value - cleared, unit_cost)
            total -= paid
        if qty > filled:
            self.layers.append(_Layer(qty - filled, total, unit_cost))
        self.last_cost = unit_cost

    def issue(self, qty: int) -> None:
        while qty and self.layers:
            layer = self.layers[0]
            take = min(qty, layer.qty)
            cost = _share(layer.value, take, layer.qty)
            layer.qty -= take
            layer.value -= cost
            if not layer.qty:
                self.layers.popleft()
            self.charged += cost
            self.last_cost = layer.unit_cost
            qty -= take
        if qty:
            cost = q4(qty * self.unit_cost())
            self.short = _Layer(self.short.qty + qty, self.short.value + cost, self.unit_cost())
            self.charged += cost


class _Average:
    """Perpetual moving average: one pool of (qty, value)."""

    def __init__(self, fallback: Decimal) -> None:
        self.qty = 0
        self.value = ZERO
        self.average: Decimal | None = None
        self.fallback = fallback
        self.charged = ZERO

    def unit_cost(self) -> Decimal:
        return self.fallback if self.average is None else self.average

    def inflow(self, qty: int, unit_cost: Decimal) -> None:
        total = q4(qty * unit_cost)
        filled = min(qty, max(-self.qty, 0))
        if filled:
            cleared = _share(-self.value, filled, -self.qty)
            paid = q4(filled * unit_cost)
            self.charged += paid - cleared
            self.value += cleared
            total -= paid
        self.qty += qty
        self.value += total
        self.average = self.value / self.qty if self.qty > 0 else unit_cost

    def issue(self, qty: int) -> None:
        take = min(qty, max(self.qty, 0))
        if take:
            cost = _share(self.value, take, self.qty)
            self.qty -= take
            self.value -= cost
            self.charged += cost
        if qty > take:
            cost = q4((qty - take) * self.unit_cost())
            self.qty -= qty - take
            self.value -= cost
            self.charged += cost


def _new_book(method: Method, fallback: Decimal) -> _Book:
    if method == "fifo":
        return _Fifo(fallback)
    if method == "average":
        return _Average(fallback)
    raise ValueError(f"unknown valuation method {method!r} (expected 'fifo' or 'average')")


def _inflow_cost(book: _Book, event: Inflow, costs: dict[str, Decimal]) -> Decimal:
    """Unit cost of an inflow as booked now: a receipt's current (revised) cost, an opening's
    stated cost, a gain's current unit cost of the book."""
    if isinstance(event, Receipt):
        return costs[event.key]
    if isinstance(event, Opening):
        return event.unit_cost
    return book.unit_cost()


def _apply(book: _Book, event: Inflow | Issue, cost: Decimal | None) -> None:
    """Book one stock event; `cost` is the inflow's unit cost (None for an issue)."""
    if isinstance(event, Issue):
        book.issue(event.qty)
    else:
        assert cost is not None
        book.inflow(event.qty, cost)


_Booked = tuple[Inflow | Issue, Decimal | None]


def _replay(
    booked: Sequence[_Booked], costs: dict[str, Decimal], method: Method, fallback: Decimal
) -> _Book:
    """The book as if every receipt had had its cost in `costs` from the start; gains keep the
    cost they were valued at when booked."""
    book = _new_book(method, fallback)
    for event, cost in booked:
        _apply(book, event, costs[event.key] if isinstance(event, Receipt) else cost)
    return book


def _kind(event: Event) -> str:
    if isinstance(event, Receipt):
        return "receipt"
    if isinstance(event, Opening):
        return "opening"
    if isinstance(event, Gain):
        return f"gain:{event.kind}"
    if isinstance(event, Issue):
        return f"issue:{event.kind}"
    return "revision"


def _signed_qty(event: Event) -> int:
    if isinstance(event, Revision):
        return 0
    return -event.qty if isinstance(event, Issue) else event.qty


def _check(event: Event, costs: dict[str, Decimal]) -> None:
    """Refuse events the rules have no meaning for."""
    if not isinstance(event, Revision) and event.qty <= 0:
        raise ValueError(f"event seq {event.seq}: qty must be positive, got {event.qty}")
    if isinstance(event, Receipt | Opening | Revision) and event.unit_cost < 0:
        raise ValueError(f"event seq {event.seq}: unit cost must not be negative")
    if isinstance(event, Receipt) and event.key in costs:
        raise ValueError(f"event seq {event.seq}: receipt key {event.key!r} is not unique")
    if isinstance(event, Revision) and event.key not in costs:
        raise ValueError(
            f"revision seq {event.seq}: unknown receipt {event.key!r} "
            "(a revision must follow the receipt it corrects)"
        )


def value(events: Iterable[Event], method: Method, fallback_cost: Decimal = ZERO) -> Valuation:
    """Replay one SKU's events in `seq` order and return the effects and ending state."""
    with localcontext(_CONTEXT):
        return _value(sorted(events, key=lambda e: e.seq), method, fallback_cost)


def _value(events: list[Event], method: Method, fallback: Decimal) -> Valuation:
    book = _new_book(method, fallback)
    costs: dict[str, Decimal] = {}
    booked: list[_Booked] = []
    effects: list[Effect] = []
    for event in events:
        _check(event, costs)
        before_value, before_charged = book.value, book.charged
        if isinstance(event, Revision):
            costs = {**costs, event.key: event.unit_cost}
            book = _replay(booked, costs, method, fallback)
        else:
            if isinstance(event, Receipt):
                costs[event.key] = event.unit_cost
            cost = None if isinstance(event, Issue) else _inflow_cost(book, event, costs)
            _apply(book, event, cost)
            booked.append((event, cost))
        effects.append(
            Effect(
                seq=event.seq,
                at=event.at,
                kind=_kind(event),
                qty=_signed_qty(event),
                inventory=book.value - before_value,
                cogs=book.charged - before_charged,
            )
        )
    return Valuation(effects, book.qty, book.value, book.unit_cost())
