"""Beancount journal: Beancount's own checker proves the journal balances to the valuation."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from server.accounting.beancount import SkuEffects, account_component, journal, postings
from server.valuation.engine import (
    Effect,
    Event,
    Gain,
    Issue,
    Method,
    Opening,
    Receipt,
    Revision,
    value,
)

D = Decimal
BEAN_CHECK = Path(sys.executable).parent / "bean-check"
OPENED = date(2024, 1, 1)
AS_OF = date(2024, 1, 31)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 1, day, hour, tzinfo=UTC)


HISTORY: list[Event] = [
    Opening(1, at(1), 5, D("1.50")),
    Receipt(2, at(2), 10, D("2.00"), "m:2"),
    Issue(3, at(3), 8, "sale"),
    Gain(4, at(4), 1, "return"),
    Revision(5, at(5), "m:2", D("2.20")),
    Issue(6, at(6), 2, "shrinkage"),
    Gain(7, at(7), 3, "count-gain"),
    Issue(8, at(8), 12, "sale"),  # 3 beyond stock
    Receipt(9, at(9), 4, D("2.50"), "m:9"),  # trues up the shortfall
    Issue(10, at(10), 1, "scrap"),
    Receipt(11, at(11), 6, D("2.40"), "m:11"),
]


def entry(sku: str, method: Method = "fifo", events: Sequence[Event] = HISTORY) -> SkuEffects:
    v = value(events, method)
    return SkuEffects(sku, v.effects, v.value)


def bean_check(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "ledger.beancount"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def assert_checks(text: str, tmp_path: Path) -> None:
    result = bean_check(text, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), text


def test_the_journal_of_both_methods_passes_bean_check(tmp_path: Path) -> None:
    text = journal([entry("WID-1", "fifo"), entry("WID-2", "average")], "EUR", OPENED, AS_OF)
    assert_checks(text, tmp_path)
    assert 'option "operating_currency" "EUR"' in text
    assert "2024-02-01 balance Assets:Inventory:WID-1 " in text


def test_a_wrong_ending_value_makes_bean_check_fail(tmp_path: Path) -> None:
    good = entry("WID-1")
    bad = SkuEffects(good.sku, good.effects, good.value + D("0.01"))
    result = bean_check(journal([bad], "EUR", OPENED, AS_OF), tmp_path)
    assert result.returncode != 0
    assert "Balance failed for 'Assets:Inventory:WID-1'" in result.stdout + result.stderr


def test_odd_sku_names_get_valid_distinct_accounts(tmp_path: Path) -> None:
    skus = ["cln-200", "CLN-200", "Ä/1", "a b", "A-B", "-x-", "ÄÖ", 'quote"back\\slash']
    text = journal([entry(sku) for sku in skus], "EUR", OPENED, AS_OF)
    assert_checks(text, tmp_path)
    components = [account_component(sku) for sku in skus]
    assert len(set(components)) == len(skus)
    assert all(re.fullmatch(r"[A-Z0-9][A-Z0-9-]*", c) for c in components)
    assert account_component("CLN-200") == "CLN-200"  # already valid: unchanged
    assert re.fullmatch(r"CLN-200-[0-9A-F]{8}", account_component("cln-200"))
    assert re.fullmatch(r"1-[0-9A-F]{8}", account_component("Ä/1"))


def test_each_effect_posts_to_its_accounts() -> None:
    inv = "Assets:Inventory:X"
    at1 = at(1)
    assert postings(Effect(1, at1, "receipt", 2, D("4"), D("1")), inv) == {
        inv: D("4"),
        "Expenses:COGS": D("1"),
        "Liabilities:Goods-Received-Not-Invoiced": D("-5"),
    }
    assert postings(Effect(1, at1, "opening", 2, D("4"), D(0)), inv) == {
        inv: D("4"),
        "Equity:Opening-Balances": D("-4"),
    }
    assert postings(Effect(1, at1, "issue:sale", -2, D("-4"), D("4")), inv) == {
        inv: D("-4"),
        "Expenses:COGS": D("4"),
    }
    assert postings(Effect(1, at1, "issue:scrap", -2, D("-4"), D("4")), inv) == {
        inv: D("-4"),
        "Expenses:Inventory-Shrinkage": D("4"),
    }
    assert postings(Effect(1, at1, "gain:return", 1, D("2"), D(0)), inv) == {
        inv: D("2"),
        "Expenses:COGS": D("-2"),
    }
    assert postings(Effect(1, at1, "gain:count-gain", 1, D("2"), D(0)), inv) == {
        inv: D("2"),
        "Expenses:Inventory-Shrinkage": D("-2"),
    }
    assert postings(Effect(1, at1, "revision", 0, D("3"), D("2")), inv) == {
        inv: D("3"),
        "Expenses:COGS": D("2"),
        "Liabilities:Goods-Received-Not-Invoiced": D("-5"),
    }
    assert postings(Effect(1, at1, "revision", 0, D(0), D(0)), inv) == {}


def test_zero_effects_write_no_transaction(tmp_path: Path) -> None:
    events: list[Event] = [
        Receipt(1, at(1), 2, D("0"), "m:1"),
        Issue(2, at(2), 1, "sale"),
        Revision(3, at(3), "m:1", D("0")),
    ]
    text = journal([entry("FREE", events=events)], "EUR", OPENED, AS_OF)
    assert_checks(text, tmp_path)
    assert " * " not in text
    assert "balance Assets:Inventory:FREE 0.0000 EUR" in text


def test_transactions_are_sorted_by_date_then_seq_with_seq_metadata(tmp_path: Path) -> None:
    late = [Receipt(7, at(2), 1, D("1"), "m:7")]
    early = [Receipt(9, at(1, 23), 1, D("1"), "m:9"), Receipt(3, at(2, 1), 1, D("1"), "m:3")]
    text = journal([entry("A", events=late), entry("B", events=early)], "EUR", OPENED, AS_OF)
    assert_checks(text, tmp_path)
    assert re.findall(r"seq: (\d+)", text) == ["9", "3", "7"]
    assert '2024-01-01 * "receipt B qty +1"' in text
    assert re.search(r"Assets:Inventory:B +1\.0000 EUR", text)


def test_the_date_is_the_utc_date_of_the_effect(tmp_path: Path) -> None:
    east = timezone(timedelta(hours=5))
    when = datetime(2024, 1, 2, 3, 0, tzinfo=east)  # 2024-01-01 22:00 UTC
    text = journal([entry("A", events=[Receipt(1, when, 1, D(1), "m:1")])], "EUR", OPENED, AS_OF)
    assert_checks(text, tmp_path)
    assert '2024-01-01 * "receipt A qty +1"' in text


def test_effects_outside_the_period_and_bad_input_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        journal([entry("A")], "EUR", OPENED, date(2024, 1, 5))
    with pytest.raises(ValueError, match="outside"):
        journal([entry("A")], "EUR", date(2024, 1, 2), AS_OF)
    with pytest.raises(ValueError, match="currency"):
        journal([entry("A")], "eur", OPENED, AS_OF)
    with pytest.raises(ValueError, match="only once"):
        journal([entry("A"), entry("A")], "EUR", OPENED, AS_OF)
