"""KPIs over a period: a worked week checked by hand under FIFO and average, the CSV, the
`stockwire report kpis` command and agreement with the Beancount journal."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.server.support import ADMIN, Api
from tests.server.valuation_helpers import Books, bean_check, cli, day_noon

D = Decimal


@dataclass(frozen=True)
class Period:
    start: date  # d1
    end: date  # the day after the revision's day

    def day(self, n: int) -> date:
        return self.start + timedelta(days=n - 1)

    @property
    def args(self) -> tuple[str, str]:
        return self.start.isoformat(), self.end.isoformat()


@pytest.fixture
def books(api: Api, db_url: str) -> Books:
    api.seed()
    return Books(api, db_url)


def worked_period(books: Books) -> Period:
    """Four past days d1..d4 and today (the cost revision):

    PHC-01 (SKU cost 2.00): d1 receive 10 at 2.00; d2 receive 10 at 3.00; d3 sell 12;
      d4 count 7 of 8 (1 lost); today the invoice puts the d2 receipt at 3.50.
    CLN-200 (4.00): d1 receive 5; d2 transfer out 5 (T-1); d3 transfer in at WH2-A-01 and sell
      2; d4 one comes back (a customer return).
    """
    d1 = datetime.now(UTC).date() - timedelta(days=4)
    p = Period(d1, d1)

    def at(n: int, hour: int = 10) -> datetime:
        return day_noon(p.day(n), hour)

    books.scan(at(1), "PHC-01", "receive", "WH1-A-01", 10)
    books.scan(at(1), "CLN-200", "receive", "WH1-A-02", 5)
    books.sku_cost("PHC-01", "3.00")
    books.scan(at(2), "PHC-01", "receive", "WH1-A-01", 10)
    books.scan(at(2), "CLN-200", "transfer-out", "WH1-A-02", 5, ref="T-1")
    books.scan(at(3), "PHC-01", "pick", "WH1-A-01", 12, ref="SO-1")
    books.scan(at(3), "CLN-200", "transfer-in", "WH2-A-01", 5, ref="T-1")
    books.scan(at(3, 11), "CLN-200", "pick", "WH2-A-01", 2, ref="SO-2")
    books.scan(at(4), "PHC-01", "count", "WH1-A-01", 7, ref="CC-1")
    books.scan(at(4, 11), "SW:CLOSE", "count-close", "WH1-A-01", ref="CC-1")
    books.scan(at(4, 12), "CLN-200", "return", "WH2-A-01", 1)
    revised = books.revise(books.receipts("PHC-01")[1], "3.50", note="invoice INV-88")
    return Period(d1, revised.date() + timedelta(days=1))


# FIFO, by hand. PHC-01 closing values: d1 20.00, d2 50.00, d3 50 - (10x2 + 2x3) = 24.00,
# d4 24 - 3.00 (the lost unit, from the 3.00 layer) = 21.00, today 21 + 7 x 0.50 = 24.50;
# mean 139.50 / 5 = 27.90. COGS 26.00 + 3 x 0.50 (the revised units already gone: 2 sold,
# 1 lost) = 27.50; turnover 27.50 / 27.90 = 0.99; sell-through 12 / 20 = 60 %; velocity
# 12 / 5 = 2.40 a day; cover 7 / 2.40 = 2.92 days; carrying 27.90 x 0.25 x 5 / 365 = 0.0955;
# shrinkage 3.00 / (27.50 + 3.00) = 9.84 %.
PHC_FIFO = {
    "sku": "PHC-01", "units_received": 20, "units_sold": 12, "on_hand": 7,
    "closing_value": "24.50", "average_inventory_value": "27.90", "cogs": "27.50",
    "shrinkage_value": "3.00", "inventory_turnover": 0.99, "sell_through_pct": 60.0,
    "sales_velocity": 2.4, "days_of_cover": 2.92, "carrying_cost": "0.10",
    "shrinkage_rate_pct": 9.84,
}  # fmt: skip
# CLN-200 (one cost, 4.00, under both methods): closing d1 20, d2 20 (in transit), d3 12,
# d4 16 (the return, at 4.00), today 16; mean 84 / 5 = 16.80. COGS 8.00 - 4.00 = 4.00;
# sold 2 - 1 = 1 of 5 received; cover 4 / 0.20 = 20 days; carrying 16.80 x 0.25 x 5/365.
CLN = {
    "sku": "CLN-200", "units_received": 5, "units_sold": 1, "on_hand": 4,
    "closing_value": "16.00", "average_inventory_value": "16.80", "cogs": "4.00",
    "shrinkage_value": "0.00", "inventory_turnover": 0.24, "sell_through_pct": 20.0,
    "sales_velocity": 0.2, "days_of_cover": 20.0, "carrying_cost": "0.06",
    "shrinkage_rate_pct": 0.0,
}  # fmt: skip
# TOTAL: COGS 31.50 / average 44.70 = 0.70; 13 / 25 sold; cover 11 / 2.60 = 4.23;
# carrying 44.70 x 0.25 x 5 / 365 = 0.153; shrinkage 3.00 / 34.50 = 8.70 %.
TOTAL_FIFO = {
    "sku": "TOTAL", "units_received": 25, "units_sold": 13, "on_hand": 11,
    "closing_value": "40.50", "average_inventory_value": "44.70", "cogs": "31.50",
    "shrinkage_value": "3.00", "inventory_turnover": 0.7, "sell_through_pct": 52.0,
    "sales_velocity": 2.6, "days_of_cover": 4.23, "carrying_cost": "0.15",
    "shrinkage_rate_pct": 8.7,
}  # fmt: skip
# Average, by hand. PHC-01: d1 20.00, d2 50.00 (2.50 a unit), d3 50 - 12 x 2.50 = 20.00,
# d4 20 - 2.50 = 17.50; the revision re-blends (20 + 35) / 20 = 2.75: 7 x 2.75 = 19.25
# (+1.75), and the 13 gone cost 0.25 more each: COGS 30.00 + 3.25 = 33.25. Mean 126.75 / 5
# = 25.35; turnover 33.25 / 25.35 = 1.31; carrying 0.0868; shrinkage 2.50 / 35.75 = 6.99 %.
PHC_AVERAGE = PHC_FIFO | {
    "closing_value": "19.25", "average_inventory_value": "25.35", "cogs": "33.25",
    "shrinkage_value": "2.50", "inventory_turnover": 1.31, "carrying_cost": "0.09",
    "shrinkage_rate_pct": 6.99,
}  # fmt: skip


def test_the_worked_period_under_fifo(books: Books) -> None:
    p = worked_period(books)
    doc = books.kpis(*p.args)
    assert (doc["from"], doc["to"], doc["days"], doc["method"], doc["currency"]) == (
        *p.args, 5, "fifo", "EUR")  # fmt: skip
    assert doc["carrying_rate"] == "0.2500"
    assert doc["skus"] == [CLN, PHC_FIFO]
    assert doc["total"] == TOTAL_FIFO


def test_the_same_period_under_the_moving_average(books: Books) -> None:
    p = worked_period(books)
    books.company(valuation_method="average")
    doc = books.kpis(*p.args)
    assert doc["skus"] == [CLN, PHC_AVERAGE]
    total = doc["total"]
    assert (total["cogs"], total["average_inventory_value"], total["closing_value"]) == (
        "37.25", "42.15", "35.25")  # fmt: skip
    assert total["inventory_turnover"] == 0.88  # 37.25 / 42.15


def test_a_higher_carrying_rate_and_one_sku(books: Books) -> None:
    p = worked_period(books)
    books.company(carrying_rate="0.365")
    doc = books.kpis(*p.args, sku="PHC-01")
    # 27.90 x 0.365 x 5 / 365 = 0.1395
    assert [r["carrying_cost"] for r in (*doc["skus"], doc["total"])] == ["0.14", "0.14"]
    assert [r["sku"] for r in doc["skus"]] == ["PHC-01"]
    assert doc["total"]["cogs"] == "27.50"


def test_a_one_day_period_averages_its_closing_value_and_ratios_may_be_null(
    books: Books,
) -> None:
    p = worked_period(books)
    day2 = p.day(2)
    row = books.kpis(day2.isoformat(), p.day(3).isoformat(), sku="PHC-01")["skus"][0]
    # d2: 10 received, nothing sold; closing (and average) 50.00
    assert (row["average_inventory_value"], row["closing_value"], row["cogs"]) == (
        "50.00", "50.00", "0.00")  # fmt: skip
    assert (row["inventory_turnover"], row["sell_through_pct"], row["sales_velocity"]) == (
        0.0, 0.0, 0.0)  # fmt: skip
    assert (row["days_of_cover"], row["shrinkage_rate_pct"]) == (None, None)
    row = books.kpis(p.day(3).isoformat(), p.day(4).isoformat(), sku="PHC-01")["skus"][0]
    assert (row["units_received"], row["sell_through_pct"]) == (0, None)  # none received
    # before any movement: no stock, no ratios
    row = books.kpis((p.start - timedelta(days=7)).isoformat(), p.start.isoformat())["total"]
    assert (row["average_inventory_value"], row["inventory_turnover"], row["cogs"]) == (
        "0.00", None, "0.00")  # fmt: skip


def test_kpis_as_csv_one_row_per_sku_and_a_total(books: Books) -> None:
    p = worked_period(books)
    params = {"from": p.args[0], "to": p.args[1], "format": "csv"}
    response = books.api.client.get("/v1/reports/kpis", params=params, headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="kpis_{p.args[0]}_{p.args[1]}.csv"' in response.headers[
        "content-disposition"]  # fmt: skip
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:4] == ["sku", "units_received", "units_sold", "on_hand"]
    assert [r[0] for r in rows[1:]] == ["CLN-200", "PHC-01", "TOTAL"]
    assert rows[2] == ["PHC-01", "20", "12", "7", "24.50", "27.90", "27.50", "3.00", "0.99",
                       "60.00", "2.40", "2.92", "0.10", "9.84"]  # fmt: skip
    assert rows[3] == ["TOTAL", "25", "13", "11", "40.50", "44.70", "31.50", "3.00", "0.70",
                       "52.00", "2.60", "4.23", "0.15", "8.70"]  # fmt: skip
    one_day = {"from": p.day(2).isoformat(), "to": p.day(3).isoformat(), "format": "csv",
               "sku": "PHC-01"}  # fmt: skip
    text = books.api.client.get("/v1/reports/kpis", params=one_day, headers=ADMIN).text
    assert text.splitlines()[1] == "PHC-01,10,0,20,50.00,50.00,0.00,0.00,0.00,0.00,0.00,,0.03,"


def test_bad_kpi_requests_are_refused(books: Books) -> None:
    client = books.api.client

    def status(**params: Any) -> tuple[int, str]:
        response = client.get("/v1/reports/kpis", params=params, headers=ADMIN)
        return response.status_code, response.json().get("reason", "")

    assert status(**{"from": "2026-01-02", "to": "2026-01-02"}) == (422, "bad period")
    assert status(**{"from": "2000-01-01", "to": "2026-01-02"}) == (422, "bad period")
    assert status(**{"from": "2026-01-01"}) == (422, "invalid request")
    assert status(**{"from": "2026-01-01", "to": "2026-02-30"}) == (422, "invalid request")
    assert status(**{"from": "2026-01-01", "to": "2026-01-02", "format": "xml"}) == (
        422, "invalid request")  # fmt: skip
    assert status(**{"from": "2026-01-01", "to": "2026-01-02", "sku": "NOPE"}) == (
        404, "unknown sku")  # fmt: skip
    # the older sell-through report still answers
    assert books.api.get("/v1/reports/sell-through") == {"skus": []}


def test_report_kpis_prints_a_table_csv_or_json(
    books: Books, capsys: pytest.CaptureFixture[str]
) -> None:
    p = worked_period(books)
    base = ["report", "kpis", "--db", books.db_url, "--from", p.args[0], "--to", p.args[1]]
    code, out, err = cli(base, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"KPIs {p.args[0]} .. {p.args[1]} (exclusive, 5 days), fifo, EUR, "
                        "carrying rate 0.2500/year")  # fmt: skip
    assert lines[1].split() == [
        "SKU", "received", "sold", "on", "hand", "closing", "avg", "inv", "COGS", "shrinkage",
        "turns", "sell-thru", "%", "units/day", "cover", "days", "carrying", "shrink", "%",
    ]  # fmt: skip
    assert lines[3].split() == ["PHC-01", "20", "12", "7", "24.50", "27.90", "27.50", "3.00",
                                "0.99", "60.00", "2.40", "2.92", "0.10", "9.84"]  # fmt: skip
    assert lines[4].split()[0] == "TOTAL"
    code, out, _ = cli([*base, "--csv"], capsys)
    params = {"from": p.args[0], "to": p.args[1], "format": "csv"}
    api_csv = books.api.client.get("/v1/reports/kpis", params=params, headers=ADMIN).text
    assert (code, out) == (0, api_csv)
    code, out, _ = cli([*base, "--json", "--sku", "CLN-200"], capsys)
    assert (code, json.loads(out)) == (0, books.kpis(*p.args, sku="CLN-200"))
    code, _, err = cli([*base, "--sku", "NOPE"], capsys)
    assert (code, "unknown sku" in err) == (1, True)
    code, _, err = cli(["report", "kpis", "--db", "/nonexistent.db", "--from", p.args[0],
                        "--to", p.args[1]], capsys)  # fmt: skip
    assert (code, "no such file" in err) == (2, True)
    with pytest.raises(SystemExit):
        cli(["report", "kpis", "--db", books.db_url, "--from", "monday", "--to", p.args[1]],
            capsys)  # fmt: skip


def test_kpi_cogs_and_shrinkage_equal_what_the_journal_posts_in_the_period(
    books: Books, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = worked_period(books)
    out = tmp_path / "period.beancount"
    code, _, err = cli(["ledger", "export-beancount", "--db", books.db_url, "-o", str(out),
                        "--from", p.args[0], "--to", p.args[1]], capsys)  # fmt: skip
    assert code == 0, err
    assert bean_check(out).returncode == 0
    text = out.read_text()

    def posted(account: str) -> Decimal:
        found = re.findall(rf"^  {account} +(-?[\d.]+) EUR$", text, re.M)
        return sum((D(x) for x in found), D(0))

    total = books.kpis(*p.args)["total"]
    assert f"{posted('Expenses:COGS'):.2f}" == total["cogs"] == "31.50"
    assert f"{posted('Expenses:Inventory-Shrinkage'):.2f}" == total["shrinkage_value"]
    balances = re.findall(r"balance Assets:Inventory:\S+ +([\d.]+) EUR", text)
    assert f"{sum(D(b) for b in balances):.2f}" == total["closing_value"]
