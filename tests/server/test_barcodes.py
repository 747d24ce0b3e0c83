"""Barcode forms (tests/server/data/barcodes.json): each case its own test, through biip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.barcodes.explain import explain
from tests.server.support import Api

CASES = json.loads((Path(__file__).parent / "data" / "barcodes.json").read_text())["cases"]
DEFAULTS = {"gtin14": None, "lot": "", "expiry": None, "serial": "", "qty": 1, "sscc": None}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_barcode_form_gives_exactly_its_expected_fields(case: dict[str, Any]) -> None:
    doc = explain(case["code"])
    expect = case["expect"]
    if "refused" in expect:
        assert doc["ok"] is False
        assert doc["refused"] == expect["refused"]
        return
    got = {key: doc[key] for key in DEFAULTS}
    assert got == DEFAULTS | expect
    if expect.get("sscc"):
        assert doc["refused"] == "not a trade item"


def test_upc_ean_aim_and_gs1_128_forms_of_one_item_resolve_to_one_sku(api: Api) -> None:
    api.seed()
    api.post("/v1/stocktakes", {"ref": "OPEN", "lines": [{"sku": "GUM-12", "loc": "WH1-B-02",
                                                          "qty": 10}]})  # fmt: skip
    forms = ["036000291452", "0036000291452", "]E00036000291452", "]C10100036000291452"]
    for code in forms:
        assert api.get("/v1/barcodes/explain", code=code)["sku"] == "GUM-12"
        assert api.scan("hs-01", code, "pick", "WH1-B-02")["status"] == "booked"
    assert api.on_hand("GUM-12") == 10 - len(forms)


def test_a_case_gtin_and_an_ai37_count_multiply_the_quantity(api: Api) -> None:
    api.seed()
    api.post("/v1/skus/PHC-01/gtins", {"gtin": "15901234123454", "multiplier": 12})
    assert api.scan("hs-01", "]C10115901234123454", "receive", "WH1-A-01", qty=2)["status"] == (
        "booked"
    )
    assert api.on_hand("PHC-01") == 24
    # AI 02 (contained GTIN) with AI 37 = 12: one case label read 3 times as qty 3
    code = "]C102095060001343523712\x1d10L2612"
    assert api.scan("hs-01", code, "receive", "WH1-A-01", qty=3)["status"] == "booked"
    stock = api.get("/v1/stock", sku="CLN-200")["stock"]
    assert [(r["lot"], r["on_hand"]) for r in stock] == [("L2612", 36)]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("]C100106141411234567897", "not a trade item"),
        ("5901234123458", "check digit"),
        ("36000291452", "not a valid GTIN"),
        ("4006381333931", "unknown barcode"),
        ("hello world", "unknown barcode"),
    ],
)
def test_codes_that_are_no_known_trade_item_are_refused_for_booking(
    api: Api, code: str, reason: str
) -> None:
    api.seed()
    result = api.scan("hs-01", code, "receive", "WH1-A-01")
    assert (result["status"], result["reason"]) == ("refused", reason)


@pytest.mark.parametrize(
    ("code", "reason", "detail"),
    [
        ("]C1010950600013435217271331", "unknown barcode", "bad date in AI 17"),
        ("0109506000134352\x1d17271331", "unknown barcode", "bad date in AI 17"),
        ("]C1010950600013435221\x01", "unknown barcode", "bad value in AI 21"),
        ("]C10109506000134352370", "unknown barcode", "bad count in AI 37: 0 units"),
        ("]C10109506000134353", "check digit", "GTIN 09506000134353 has check digit 3, 2 expected"),
        ("36000291452", "not a valid GTIN", "11 digits: a GTIN has 8, 12, 13 or 14"),
        ("]", "unknown barcode", "not a barcode the ledger can read"),
        ("]C100106141411234567897", "not a trade item",
         "SSCC 106141411234567897 names a logistic unit (pallet or case)"),
    ],
)  # fmt: skip
def test_refusals_are_told_in_plain_words(code: str, reason: str, detail: str) -> None:
    doc = explain(code)
    assert (doc["ok"], doc["refused"], doc["detail"]) == (False, reason, detail)


def test_no_refusal_shows_a_pattern_and_an_sscc_is_described_one_way(api: Api) -> None:
    for case in CASES:
        detail = explain(case["code"]).get("detail") or ""
        assert not any(mark in detail for mark in ("^", "(?", "\\d", "Failed")), detail
    api.seed()
    sscc = "]C100106141411234567897"
    via_scan = api.scan("hs-01", sscc, "receive", "WH1-A-01")["detail"]
    assert via_scan == explain(sscc)["detail"] == api.get("/v1/barcodes/explain", code=sscc)[
        "detail"]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "kg"),
    [
        ("]C10109501101530003310300150010LOT1", "1.500"),  # AI 3103: kg, 3 decimals
        ("]C101095011015300033102001500", "15.00"),  # AI 3102: 2 decimals
        ("0109501101530003\x1d3100000007", "7"),  # no AIM prefix, GS separated
    ],
)
def test_a_variable_measure_label_carries_its_net_weight(code: str, kg: str) -> None:
    doc = explain(code)
    assert doc["ok"] and doc["gtin14"] == "09501101530003"
    assert doc["net_weight_kg"] == kg


@pytest.mark.parametrize("code", ["9506000134353", "]E09506000134353", "4006381333932"])
def test_plain_gtin_digits_with_a_wrong_check_digit_are_a_check_digit_refusal(code: str) -> None:
    # 95... and 40... also start GS1 internal AIs: plain GTIN digits are never read as those
    doc = explain(code)
    assert (doc["ok"], doc["refused"]) == (False, "check digit")
