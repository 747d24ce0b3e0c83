"""Valuation engine: worked examples (numbers computed by hand) and properties of replays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.valuation.engine import (
    Effect,
    Event,
    Gain,
    Issue,
    Method,
    Opening,
    Receipt,
    Revision,
    Valuation,
    value,
)

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)
METHODS: tuple[Method, ...] = ("fifo", "average")


def at(day: int) -> datetime:
    return T0 + timedelta(days=day)


def effect(v: Valuation, seq: int) -> Effect:
    return next(e for e in v.effects if e.seq == seq)


def total(v: Valuation, field: str, kinds: Callable[[str], bool]) -> Decimal:
    return sum((getattr(e, field) for e in v.effects if kinds(e.kind)), D(0))


# --- worked examples ------------------------------------------------------------------------


def test_fifo_charges_the_oldest_layer_first() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2.00"), "m:1"),
            Receipt(2, at(2), 10, D("3.00"), "m:2"),
            Issue(3, at(3), 15, "sale"),
        ],
        "fifo",
    )
    assert effect(v, 3).cogs == D("35.0000")  # 10 x 2 + 5 x 3
    assert effect(v, 3).inventory == D("-35.0000")
    assert effect(v, 3).qty == -15
    assert (v.qty, v.value, v.unit_cost) == (5, D("15.0000"), D("3.00"))


def test_a_moving_average_blends_receipts() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2.00"), "m:1"),
            Receipt(2, at(2), 10, D("3.00"), "m:2"),
            Issue(3, at(3), 15, "sale"),
        ],
        "average",
    )
    assert effect(v, 3).cogs == D("37.5000")  # 15 x 2.50
    assert (v.qty, v.value, v.unit_cost) == (5, D("12.5000"), D("2.5"))


def test_a_moving_average_reblends_after_an_issue() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2"), "m:1"),
            Issue(2, at(2), 5, "sale"),  # 10.00, leaves 5 @ 2
            Receipt(3, at(3), 5, D("4"), "m:3"),  # 10 @ 3
            Issue(4, at(4), 4, "sale"),
        ],
        "average",
    )
    assert effect(v, 4).cogs == D("12.0000")
    assert (v.qty, v.value) == (6, D("18.0000"))


def test_an_opening_stocktake_is_stock_at_its_stated_cost() -> None:
    v = value([Opening(1, at(0), 4, D("1.25")), Issue(2, at(1), 1, "sale")], "fifo")
    assert effect(v, 1) == Effect(1, at(0), "opening", 4, D("5.0000"), D("0.0000"))
    assert (v.qty, v.value) == (3, D("3.7500"))


@pytest.mark.parametrize("method", METHODS)
def test_a_cost_revision_of_stock_on_hand_revalues_it_only(method: Method) -> None:
    v = value(
        [Receipt(1, at(1), 10, D("2"), "m:1"), Revision(2, at(2), "m:1", D("2.30"))],
        method,
    )
    assert effect(v, 2) == Effect(2, at(2), "revision", 0, D("3.0000"), D("0.0000"))
    assert v.value == D("23.0000")


def test_fifo_a_cost_revision_after_a_sale_corrects_cogs_and_revalues_what_is_left() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2.00"), "m:1"),
            Issue(2, at(2), 4, "sale"),
            Revision(3, at(3), "m:1", D("2.50")),
            Issue(4, at(4), 6, "sale"),
        ],
        "fifo",
    )
    assert effect(v, 2).cogs == D("8.0000")  # booked at the old cost, not rewritten
    assert effect(v, 3).cogs == D("2.0000")  # 4 sold x 0.50
    assert effect(v, 3).inventory == D("3.0000")  # 6 on hand x 0.50
    assert effect(v, 4).cogs == D("15.0000")  # later issues use the revised cost
    assert (v.qty, v.value) == (0, D("0.0000"))


def test_average_a_cost_revision_after_a_sale_reblends_as_if_invoiced_so() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2"), "m:1"),
            Receipt(2, at(2), 10, D("4"), "m:2"),  # avg 3
            Issue(3, at(3), 10, "sale"),  # 30
            Revision(4, at(4), "m:1", D("3")),  # as if avg 3.5: sale 35, left 35
        ],
        "average",
    )
    assert (effect(v, 4).inventory, effect(v, 4).cogs) == (D("5.0000"), D("5.0000"))
    assert (v.value, v.unit_cost) == (D("35.0000"), D("3.5"))


def test_fifo_a_revision_of_a_partly_sold_older_layer_splits_sold_and_left() -> None:
    v = value(
        [
            Receipt(1, at(1), 5, D("1"), "m:1"),
            Receipt(2, at(2), 5, D("2"), "m:2"),
            Issue(3, at(3), 7, "sale"),  # 5 x 1 + 2 x 2 = 9
            Revision(4, at(4), "m:2", D("2.40")),  # 2 sold, 3 left, 0.40 each
        ],
        "fifo",
    )
    assert (effect(v, 4).cogs, effect(v, 4).inventory) == (D("0.8000"), D("1.2000"))
    assert v.value == D("7.2000")


@pytest.mark.parametrize("method", METHODS)
def test_a_second_revision_of_the_same_receipt_is_relative_to_the_first(method: Method) -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2"), "m:1"),
            Issue(2, at(2), 5, "sale"),
            Revision(3, at(3), "m:1", D("3")),
            Revision(4, at(4), "m:1", D("2.50")),
        ],
        method,
    )
    assert (effect(v, 3).cogs, effect(v, 3).inventory) == (D("5.0000"), D("5.0000"))
    assert (effect(v, 4).cogs, effect(v, 4).inventory) == (D("-2.5000"), D("-2.5000"))
    assert v.value == D("12.5000")


def test_a_revision_of_an_unknown_receipt_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown receipt 'm:9'"):
        value([Receipt(1, at(1), 1, D(1), "m:1"), Revision(2, at(2), "m:9", D(2))], "fifo")


def test_a_revision_before_its_receipt_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown receipt"):
        value([Revision(1, at(1), "m:2", D(2)), Receipt(2, at(1), 1, D(1), "m:2")], "average")


def test_fifo_a_return_comes_back_at_the_last_known_cost() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2"), "m:1"),
            Receipt(2, at(2), 10, D("3"), "m:2"),
            Issue(3, at(3), 12, "sale"),  # consumes into the 3.00 layer
            Gain(4, at(4), 1, "return"),
        ],
        "fifo",
    )
    assert effect(v, 4) == Effect(4, at(4), "gain:return", 1, D("3.0000"), D("0.0000"))
    assert (v.qty, v.value) == (9, D("27.0000"))


def test_fifo_the_last_known_cost_is_that_of_the_layer_last_consumed_or_received() -> None:
    events: list[Event] = [
        Receipt(1, at(1), 10, D("2"), "m:1"),
        Receipt(2, at(2), 10, D("3"), "m:2"),
    ]
    assert value(events, "fifo").unit_cost == D("3")  # last received
    v = value([*events, Issue(3, at(3), 4, "sale"), Gain(4, at(4), 2, "count-gain")], "fifo")
    assert effect(v, 4).inventory == D("4.0000")  # 2 x 2.00, the layer last consumed
    assert (v.qty, v.value, v.unit_cost) == (18, D("46.0000"), D("2"))


def test_average_a_return_comes_back_at_the_running_average() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2"), "m:1"),
            Receipt(2, at(2), 10, D("4"), "m:2"),
            Issue(3, at(3), 5, "sale"),
            Gain(4, at(4), 2, "return"),
        ],
        "average",
    )
    assert effect(v, 4).inventory == D("6.0000")
    assert (v.qty, v.value, v.unit_cost) == (17, D("51.0000"), D("3"))


@pytest.mark.parametrize("method", METHODS)
def test_a_gain_with_no_cost_ever_known_uses_the_fallback_cost(method: Method) -> None:
    v = value([Gain(1, at(1), 3, "count-gain")], method, fallback_cost=D("1.10"))
    assert effect(v, 1).inventory == D("3.3000")
    assert v.unit_cost == D("1.10")


@pytest.mark.parametrize("method", METHODS)
def test_stock_issued_short_is_trued_up_by_the_next_receipt(method: Method) -> None:
    v = value(
        [
            Receipt(1, at(1), 5, D("2"), "m:1"),
            Issue(2, at(2), 8, "sale"),  # 5 x 2 + 3 short x 2 (last known cost)
            Receipt(3, at(3), 10, D("3"), "m:3"),  # fills 3 at 3.00: +1.00 each to COGS
        ],
        method,
    )
    assert effect(v, 2).cogs == D("16.0000")
    assert v.value_at(at(2)) == D("-6.0000")
    assert v.qty_at(at(2)) == -3
    assert (effect(v, 3).inventory, effect(v, 3).cogs) == (D("27.0000"), D("3.0000"))
    assert (v.qty, v.value, v.unit_cost) == (7, D("21.0000"), D("3"))


@pytest.mark.parametrize("method", METHODS)
def test_a_shortfall_partly_filled_clears_its_share(method: Method) -> None:
    v = value(
        [
            Opening(1, at(1), 2, D("1.00")),
            Issue(2, at(2), 6, "shrinkage"),  # 4 short at 1.00
            Receipt(3, at(3), 1, D("1.50"), "m:3"),  # fills 1: +0.50 COGS
            Receipt(4, at(4), 5, D("2.00"), "m:4"),  # fills 3: +3.00 COGS, 2 left at 2.00
        ],
        method,
    )
    assert (effect(v, 3).inventory, effect(v, 3).cogs) == (D("1.0000"), D("0.5000"))
    assert (effect(v, 4).inventory, effect(v, 4).cogs) == (D("7.0000"), D("3.0000"))
    assert (v.qty, v.value) == (2, D("4.0000"))


@pytest.mark.parametrize("method", METHODS)
def test_rounding_dust_never_leaves_value_behind(method: Method) -> None:
    v = value(
        [Receipt(1, at(1), 3, D("1") / 3, "m:1")] + [Issue(i, at(i), 1, "sale") for i in (2, 3, 4)],
        method,
    )
    assert effect(v, 1).inventory == D("1.0000")
    assert [effect(v, i).cogs for i in (2, 3, 4)] == [D("0.3333"), D("0.3334"), D("0.3333")]
    assert (v.qty, v.value) == (0, D("0.0000"))


def test_events_are_replayed_in_seq_order_whatever_their_time() -> None:
    v = value(
        [Issue(2, at(1), 1, "sale"), Receipt(1, at(2), 1, D("5"), "m:1")],  # backdated issue
        "fifo",
    )
    assert [e.seq for e in v.effects] == [1, 2]
    assert effect(v, 2).cogs == D("5.0000")


def test_value_and_qty_at_a_time_include_the_events_up_to_it() -> None:
    v = value(
        [
            Receipt(1, at(1), 10, D("2"), "m:1"),
            Issue(2, at(3), 4, "sale"),
            Receipt(3, at(5), 2, D("5"), "m:3"),
        ],
        "fifo",
    )
    assert (v.qty_at(at(0)), v.value_at(at(0))) == (0, D(0))
    assert (v.qty_at(at(2)), v.value_at(at(2))) == (10, D("20.0000"))
    assert (v.qty_at(at(3)), v.value_at(at(3))) == (6, D("12.0000"))
    assert (v.qty_at(at(9)), v.value_at(at(9))) == (8, D("22.0000"))


def test_nonsense_events_are_refused() -> None:
    with pytest.raises(ValueError, match="qty must be positive"):
        value([Issue(1, at(1), 0, "sale")], "fifo")
    with pytest.raises(ValueError, match="not unique"):
        value([Receipt(1, at(1), 1, D(1), "m:1"), Receipt(2, at(1), 1, D(1), "m:1")], "fifo")
    with pytest.raises(ValueError, match="method"):
        value([], "lifo")  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------

COSTS = st.decimals(min_value=0, max_value=500, places=4)


@st.composite
def histories(draw: st.DrawFn, negative: bool = True) -> list[Event]:
    """A random SKU history; one event per hour. Without `negative`, issues never exceed the
    quantity on hand."""
    events: list[Event] = []
    keys: list[str] = []
    qty = 0
    for seq in range(1, draw(st.integers(0, 30)) + 1):
        when = T0 + timedelta(hours=seq)
        kind = draw(st.sampled_from(["receipt", "opening", "gain", "issue", "issue", "revision"]))
        if kind == "revision" and keys:
            events.append(Revision(seq, when, draw(st.sampled_from(keys)), draw(COSTS)))
        elif kind == "issue" and (negative or qty > 0):
            n = draw(st.integers(1, 40 if negative else qty))
            events.append(Issue(seq, when, n, draw(st.sampled_from(["sale", "shrinkage"]))))
            qty -= n
        elif kind == "gain":
            n = draw(st.integers(1, 20))
            events.append(Gain(seq, when, n, draw(st.sampled_from(["return", "count-gain"]))))
            qty += n
        elif kind == "opening":
            n = draw(st.integers(1, 20))
            events.append(Opening(seq, when, n, draw(COSTS)))
            qty += n
        else:
            n = draw(st.integers(1, 30))
            keys.append(f"m:{seq}")
            events.append(Receipt(seq, when, n, draw(COSTS), keys[-1]))
            qty += n
    return events


PROPERTY = settings(max_examples=200, deadline=None, database=None)
FALLBACK = D("1.2345")


@PROPERTY
@given(histories(), st.sampled_from(METHODS))
def test_effects_sum_to_the_ending_value(events: list[Event], method: Method) -> None:
    v = value(events, method, FALLBACK)
    assert sum((e.inventory for e in v.effects), D(0)) == v.value
    assert sum(e.qty for e in v.effects) == v.qty
    assert len(v.effects) == len(events)
    assert all(e.inventory == e.inventory.quantize(D("0.0001")) for e in v.effects)
    assert all(e.cogs == -e.inventory for e in v.effects if e.kind.startswith("issue:"))


@PROPERTY
@given(histories(negative=False))
def test_without_negative_stock_both_methods_agree_on_qty_and_the_books_balance(
    events: list[Event],
) -> None:
    results = {m: value(events, m, FALLBACK) for m in METHODS}
    assert results["fifo"].qty == results["average"].qty
    for v in results.values():
        inflows = total(v, "inventory", lambda k: not k.startswith("issue:"))
        inflow_cogs = total(v, "cogs", lambda k: not k.startswith("issue:"))
        cogs = total(v, "cogs", lambda k: k == "issue:sale") + inflow_cogs
        shrinkage = total(v, "cogs", lambda k: k.startswith("issue:") and k != "issue:sale")
        revisions = total(v, "cogs", lambda k: k == "revision")
        assert inflow_cogs == revisions  # no shortfall to true up
        assert (inflows + revisions) - cogs - shrinkage == v.value
        assert v.value >= 0


@PROPERTY
@given(histories(), st.sampled_from(METHODS))
def test_replaying_the_same_events_gives_the_same_result(
    events: list[Event], method: Method
) -> None:
    first = value(events, method, FALLBACK)
    assert value(list(reversed(events)), method, FALLBACK) == first


@PROPERTY
@given(histories(), st.sampled_from(METHODS))
def test_value_is_zero_whenever_qty_is_zero(events: list[Event], method: Method) -> None:
    v = value(events, method, FALLBACK)
    for e in v.effects:
        if v.qty_at(e.at) == 0:
            assert v.value_at(e.at) == 0


@PROPERTY
@given(histories(), st.sampled_from(METHODS))
def test_revisions_end_as_if_the_final_cost_had_been_invoiced_from_the_start(
    events: list[Event], method: Method
) -> None:
    """Without gains (whose cost depends on when they were booked), revisions leave the same
    book as invoicing every receipt at its final cost up front; and each receipt's credit to
    goods-received-not-invoiced, revisions included, totals its final amount."""
    events = [e for e in events if not isinstance(e, Gain)]
    final = {e.key: e.unit_cost for e in events if isinstance(e, Receipt | Revision)}
    upfront = [
        Receipt(e.seq, e.at, e.qty, final[e.key], e.key) if isinstance(e, Receipt) else e
        for e in events
        if not isinstance(e, Revision)
    ]
    v = value(events, method, FALLBACK)
    w = value(upfront, method, FALLBACK)
    assert (v.qty, v.value, v.unit_cost) == (w.qty, w.value, w.unit_cost)
    assert sum((e.cogs for e in v.effects), D(0)) == sum((e.cogs for e in w.effects), D(0))
    grni = total(v, "inventory", lambda k: k in ("receipt", "revision"))
    grni += total(v, "cogs", lambda k: k in ("receipt", "revision"))
    invoiced = sum(
        ((e.qty * final[e.key]).quantize(D("0.0001")) for e in events if isinstance(e, Receipt)),
        D(0),
    )
    assert grni == invoiced
