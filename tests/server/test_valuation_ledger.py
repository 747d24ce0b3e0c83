"""Valuation from the ledger: movements and cost revisions become engine events, the company
settings choose the method, `GET /v1/valuation`, COGS per sale, the Beancount export and the
`stockwire report valuation` command (figures worked out by hand in the comments)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection

from server.ledger.movements import move
from server.locations.service import QUARANTINE, SUPPLIER, find, virtual
from tests.server.support import ADMIN, GW1, Api
from tests.server.valuation_helpers import Books, bean_check, cli, day_noon, on_db

D = Decimal


@pytest.fixture
def books(api: Api, db_url: str) -> Books:
    api.seed()
    return Books(api, db_url)


def two_receipts_and_a_sale(books: Books) -> None:
    """PHC-01: 10 received at 2.00, 10 at 3.00, then 12 sold."""
    today = datetime.now(UTC)
    books.scan(today, "PHC-01", "receive", "WH1-A-01", 10)  # the SKU's cost: 2.00
    books.sku_cost("PHC-01", "3.00")
    books.scan(today, "PHC-01", "receive", "WH1-A-01", 10)
    books.scan(today, "PHC-01", "pick", "WH1-A-01", 12, ref="SO-1")


def test_company_settings_have_defaults_and_an_admin_changes_them(books: Books) -> None:
    api = books.api
    assert api.get("/v1/company") == {
        "valuation_method": "fifo",
        "currency": "EUR",
        "carrying_rate": "0.2500",
        "updated_at": None,
    }
    doc = books.company(valuation_method="average")
    assert (doc["valuation_method"], doc["currency"], doc["carrying_rate"]) == (
        "average", "EUR", "0.2500")  # fmt: skip
    doc = books.company(currency="USD", carrying_rate="0.3")
    assert (doc["valuation_method"], doc["currency"], doc["carrying_rate"]) == (
        "average", "USD", "0.3000")  # fmt: skip
    assert doc["updated_at"] is not None
    assert api.get("/v1/company") == doc
    bad_bodies: list[dict[str, object]] = [
        {"currency": "usd"}, {"currency": "EURO"}, {"carrying_rate": "-0.1"},
        {"valuation_method": "lifo"}, {"carrying_rate": "0.12345"}, {"other": 1},
    ]  # fmt: skip
    for bad in bad_bodies:
        response = api.client.put("/v1/company", json=bad, headers=ADMIN)
        assert response.status_code == 422, (bad, response.text)
    assert api.get("/v1/company") == doc
    assert api.client.put("/v1/company", json={}).status_code == 401
    assert api.client.get("/v1/company", headers=GW1).status_code == 403
    assert api.client.put("/v1/company", json={}, headers=GW1).status_code == 403


def test_fifo_and_average_cost_the_same_sale_differently(books: Books) -> None:
    two_receipts_and_a_sale(books)
    # FIFO: the sale takes 10 x 2.00 + 2 x 3.00 = 26.00; 8 x 3.00 = 24.00 left
    assert books.sku_value("PHC-01") == (8, "24.00")
    sale = books.cogs("PHC-01")["sales"][0]
    assert (sale["qty"], sale["cost"], sale["unit_cost"], sale["ref"]) == (
        12, "26.00", "2.1667", "SO-1")  # fmt: skip
    row = books.valuation()["skus"][0]
    assert row == {"sku": "PHC-01", "qty": 8, "value": "24.00", "unit_cost": "3.0000",
                   "method": "fifo", "currency": "EUR"}  # fmt: skip
    # average: (20.00 + 30.00) / 20 = 2.50 a unit, the sale 12 x 2.50 = 30.00; 8 x 2.50 left
    books.company(valuation_method="average")
    assert books.sku_value("PHC-01") == (8, "20.00")
    assert books.cogs("PHC-01")["totals"] == {
        "sales": "30.00", "returns": "0.00", "corrections": "0.00", "cogs": "30.00"}  # fmt: skip
    assert books.valuation()["total"] == "20.00"


def test_a_cost_revision_after_a_sale_shows_a_cogs_correction(books: Books) -> None:
    two_receipts_and_a_sale(books)
    second = books.receipts()[1]
    books.revise(second, "3.50", note="invoice INV-88")
    # FIFO: 2 of the revised 10 were sold (2 x 0.50 = 1.00 to COGS), 8 are left (+4.00)
    doc = books.cogs("PHC-01")
    (fix,) = doc["corrections"]
    assert (fix["kind"], fix["movement_id"], fix["unit_cost"], fix["note"]) == (
        "revision", second, "3.5000", "invoice INV-88")  # fmt: skip
    assert (fix["cogs"], fix["inventory"]) == ("1.00", "4.00")
    assert doc["totals"] == {
        "sales": "26.00", "returns": "0.00", "corrections": "1.00", "cogs": "27.00"}  # fmt: skip
    assert doc["sales"][0]["cost"] == "26.00"  # the sale keeps the cost it was charged
    assert books.sku_value("PHC-01") == (8, "28.00")
    # average, as if invoiced so: (20 + 35) / 20 = 2.75; 12 sold = 33.00 (3.00 more), 8 x 2.75
    books.company(valuation_method="average")
    doc = books.cogs("PHC-01")
    assert (doc["corrections"][0]["cogs"], doc["corrections"][0]["inventory"]) == (
        "3.00", "2.00")  # fmt: skip
    assert doc["totals"]["cogs"] == "33.00"
    assert books.sku_value("PHC-01") == (8, "22.00")


@pytest.mark.parametrize(
    ("method", "sale", "left", "fix", "cogs", "value"),
    [
        # FIFO: 10 x 2.10 + 2 x 2.90 = 26.80, 8 x 2.90 left; the invoice (+0.50 a unit on
        # PO-B): 2 sold -> 1.00 to COGS, 8 on hand -> +4.00
        ("fifo", "26.80", "23.20", ("1.00", "4.00"), "27.80", "27.20"),
        # average: (21.00 + 29.00) / 20 = 2.50 -> 30.00; invoiced (21 + 34) / 20 = 2.75:
        # 12 x 0.25 = 3.00 more COGS, 8 x 0.25 = +2.00 on hand
        ("average", "30.00", "20.00", ("3.00", "2.00"), "33.00", "22.00"),
    ],
)
def test_receipts_at_purchase_order_costs_and_the_invoice_that_revises_them(
    books: Books, method: str, sale: str, left: str, fix: tuple[str, str], cogs: str, value: str
) -> None:
    api, now = books.api, datetime.now(UTC)
    books.company(valuation_method=method)
    for ref, cost in (("PO-A", "2.10"), ("PO-B", "2.90")):
        api.post("/v1/purchase-orders", {"ref": ref, "submit": True, "lines": [
            {"sku": "PHC-01", "qty": 10, "unit_cost": cost}]})  # fmt: skip
        books.scan(now, "PHC-01", "receive", "WH1-A-01", 10, ref=ref)
    books.scan(now, "PHC-01", "pick", "WH1-A-01", 12, ref="SO-7")
    assert books.cogs("PHC-01")["sales"][0]["cost"] == sale
    assert books.sku_value("PHC-01") == (8, left)
    api.post("/v1/purchase-orders/PO-B/lines/PHC-01/invoice", {"unit_cost": "3.40",
                                                                "note": "INV-9"})  # fmt: skip
    doc = books.cogs("PHC-01")
    (correction,) = doc["corrections"]
    assert (correction["cogs"], correction["inventory"], correction["note"]) == (*fix, "INV-9")
    assert (doc["sales"][0]["cost"], doc["totals"]["cogs"]) == (sale, cogs)
    assert books.sku_value("PHC-01") == (8, value)


def test_a_revision_of_a_movement_that_is_no_receipt_changes_nothing(books: Books) -> None:
    two_receipts_and_a_sale(books)
    before = books.valuation()
    pick = on_db(books.db_url, lambda conn: conn.exec_driver_sql(
        "SELECT id FROM movements WHERE kind = 'pick'").scalar_one())  # fmt: skip
    books.revise(int(pick), "9.00")
    assert books.valuation() == before


def test_transfers_and_quarantine_do_not_change_the_value(books: Books) -> None:
    now = datetime.now(UTC)
    books.scan(now, "CLN-200", "receive", "WH1-A-02", 5)  # 5 x 4.00
    assert books.sku_value("CLN-200") == (5, "20.00")
    books.scan(now, "CLN-200", "transfer-out", "WH1-A-02", 4, ref="T-1")
    assert books.sku_value("CLN-200") == (5, "20.00")  # 4 in transit are still ours
    books.scan(now, "CLN-200", "transfer-in", "WH2-A-01", 4, ref="T-1")
    assert books.sku_value("CLN-200") == (5, "20.00")

    def hold(conn: Connection) -> None:
        sku = conn.exec_driver_sql("SELECT id FROM skus WHERE sku = 'CLN-200'").scalar_one()
        bin_ = find(conn, "WH2-A-01")
        assert bin_ is not None
        move(conn, sku_id=int(sku), src=bin_, dst=virtual(conn, QUARANTINE), qty=1,
             kind="quarantine")  # fmt: skip

    on_db(books.db_url, hold)
    assert books.sku_value("CLN-200") == (5, "20.00")  # quarantined stock is ours too
    assert books.cogs("CLN-200")["sales"] == []


def test_a_count_loss_is_shrinkage_at_cost_and_a_stocktake_opens_at_the_sku_cost(
    books: Books,
) -> None:
    books.api.post("/v1/stocktakes", {"ref": "OPEN-1", "lines": [
        {"sku": "GUM-12", "loc": "WH1-B-02", "qty": 40}]})  # fmt: skip
    assert books.sku_value("GUM-12") == (40, "20.00")  # an opening at the SKU's 0.50
    books.scan(datetime.now(UTC), "GUM-12", "count", "WH1-B-02", 36, ref="CC-1")
    books.scan(datetime.now(UTC), "SW:CLOSE", "count-close", "WH1-B-02", ref="CC-1")
    assert books.sku_value("GUM-12") == (36, "18.00")
    now = datetime.now(UTC)
    day = now.date().isoformat()
    tomorrow = (now.date() + timedelta(days=1)).isoformat()
    row = books.kpis(day, tomorrow, sku="GUM-12")["skus"][0]
    assert (row["shrinkage_value"], row["cogs"], row["shrinkage_rate_pct"]) == (
        "2.00", "0.00", 100.0)  # fmt: skip
    assert books.cogs("GUM-12")["totals"]["cogs"] == "0.00"  # a loss is not a cost of sales


@pytest.mark.parametrize(
    ("method", "back_at", "value", "cogs"),
    [
        # FIFO: the last layer consumed cost 3.00; 8 x 3.00 + 3.00; COGS 26.00 - 3.00
        ("fifo", "3.00", "27.00", "23.00"),
        # average 2.50: 8 x 2.50 + 2.50; COGS 30.00 - 2.50
        ("average", "2.50", "22.50", "27.50"),
    ],
)
def test_a_customer_return_comes_back_at_the_current_cost(
    books: Books, method: str, back_at: str, value: str, cogs: str
) -> None:
    books.company(valuation_method=method)
    two_receipts_and_a_sale(books)
    books.scan(datetime.now(UTC), "PHC-01", "return", "WH1-A-02", 1)
    doc = books.cogs("PHC-01")
    assert [(r["qty"], r["value"]) for r in doc["returns"]] == [(1, back_at)]
    assert doc["totals"]["returns"] == back_at
    assert doc["totals"]["cogs"] == cogs
    assert books.sku_value("PHC-01") == (9, value)


def test_a_return_to_the_supplier_leaves_at_book_cost_against_goods_received(
    books: Books, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    books.scan(now, "PHC-01", "receive", "WH1-A-01", 10)  # 2.00
    books.sku_cost("PHC-01", "3.00")
    books.scan(now, "PHC-01", "receive", "WH1-A-01", 10)  # 3.00

    def send_back(conn: Connection) -> None:
        sku = conn.exec_driver_sql("SELECT id FROM skus WHERE sku = 'PHC-01'").scalar_one()
        bin_ = find(conn, "WH1-A-01")
        assert bin_ is not None
        move(conn, sku_id=int(sku), src=bin_, dst=virtual(conn, SUPPLIER), qty=5,
             kind="supplier-return", ref="RMA-1")  # fmt: skip

    on_db(books.db_url, send_back)
    # FIFO: the oldest layer: 5 x 2.00 leave; 5 x 2.00 + 10 x 3.00 = 40.00 stay
    assert books.sku_value("PHC-01") == (15, "40.00")
    assert books.cogs("PHC-01")["totals"]["cogs"] == "0.00"
    day = now.date()
    row = books.kpis(day.isoformat(), (day + timedelta(days=1)).isoformat())["total"]
    assert (row["units_received"], row["cogs"], row["shrinkage_value"]) == (15, "0.00", "0.00")
    out = tmp_path / "books.beancount"
    code, _, err = cli(["ledger", "export-beancount", "--db", books.db_url, "-o", str(out)], capsys)
    assert code == 0, err
    text = out.read_text()
    assert re.search(r"Liabilities:Goods-Received-Not-Invoiced +10\.0000 EUR\n", text), text
    assert bean_check(out).returncode == 0


def test_valuation_as_of_a_past_day_and_a_backdated_scan(books: Books) -> None:
    d1 = datetime.now(UTC).date() - timedelta(days=3)
    books.scan(day_noon(d1), "PHC-01", "receive", "WH1-A-01", 10)  # 20.00 on d1
    books.scan(day_noon(d1 + timedelta(days=1)), "PHC-01", "pick", "WH1-A-01", 4)  # -8.00
    assert books.sku_value("PHC-01", as_of=d1.isoformat()) == (10, "20.00")
    assert books.sku_value("PHC-01", as_of=(d1 + timedelta(days=1)).isoformat()) == (6, "12.00")
    noon = day_noon(d1 + timedelta(days=1))
    assert books.sku_value("PHC-01", as_of=noon.isoformat()) == (6, "12.00")  # at that instant
    before = (noon - timedelta(seconds=1)).isoformat()
    assert books.sku_value("PHC-01", as_of=before) == (10, "20.00")
    assert books.valuation(as_of=d1.isoformat())["as_of"] == d1.isoformat()
    assert books.valuation(as_of=(d1 - timedelta(days=1)).isoformat())["skus"][0]["qty"] == 0


def test_bad_valuation_requests_are_refused(books: Books) -> None:
    client, admin = books.api.client, ADMIN
    response = client.get("/v1/valuation", params={"as_of": "yesterday"}, headers=admin)
    assert (response.status_code, response.json()["reason"]) == (422, "bad as_of")
    response = client.get("/v1/valuation/NOPE/cogs", headers=admin)
    assert (response.status_code, response.json()["reason"]) == (404, "unknown sku")
    params = {"from": "2026-01-02", "to": "2026-01-01"}
    response = client.get("/v1/valuation/PHC-01/cogs", params=params, headers=admin)
    assert (response.status_code, response.json()["reason"]) == (422, "bad period")
    assert books.cogs("PHC-01")["sales"] == []  # a SKU without movements: nothing


def test_the_beancount_export_passes_bean_check_and_equals_the_valuation(
    books: Books, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d1 = datetime.now(UTC).date() - timedelta(days=3)
    books.scan(day_noon(d1 + timedelta(days=1)), "CLN-200", "receive", "WH1-A-02", 3)
    books.scan(day_noon(d1), "PHC-01", "receive", "WH1-A-01", 10)
    books.sku_cost("PHC-01", "3.00")
    books.scan(day_noon(d1), "PHC-01", "receive", "WH1-A-01", 10)
    books.scan(day_noon(d1 + timedelta(days=1)), "PHC-01", "pick", "WH1-A-01", 12)
    books.scan(day_noon(d1 + timedelta(days=2)), "PHC-01", "return", "WH1-A-01", 1)
    books.revise(books.receipts("PHC-01")[1], "3.50")
    totals = {}
    for method in ("fifo", "average"):
        books.company(valuation_method=method, currency="USD")
        out = tmp_path / f"{method}.beancount"
        code, said, err = cli(["ledger", "export-beancount", "--db", books.db_url, "-o",
                               str(out)], capsys)  # fmt: skip
        assert code == 0, err
        result = bean_check(out)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        text = out.read_text()
        balances = re.findall(r"balance Assets:Inventory:\S+ +(-?[\d.]+) USD", text)
        total = sum((D(b) for b in balances), D(0))
        assert len(balances) == 2
        assert f"{total:.2f}" == books.valuation()["total"]
        assert f"Assets:Inventory {total:.4f} USD" in said
        # one seq space over the ledger: the sale is seq 4 (after CLN's receipt) everywhere
        assert books.cogs("PHC-01")["sales"][0]["seq"] == 4
        assert '"issue:sale PHC-01 qty -12"\n  seq: 4\n' in text
        totals[method] = books.valuation()["total"]
    # FIFO: 8 x 3.50 (revised) + the return at 3.00 (a gain keeps the cost it came back at)
    # + CLN 3 x 4.00 = 43.00; average: 8 x 2.75 + 2.50 + 12.00 = 36.50
    assert totals == {"fifo": "43.00", "average": "36.50"}


def test_a_period_export_carries_earlier_stock_in_and_closes_at_the_period_end(
    books: Books, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d1 = datetime.now(UTC).date() - timedelta(days=3)
    books.scan(day_noon(d1), "PHC-01", "receive", "WH1-A-01", 10)  # 20.00
    books.scan(day_noon(d1 + timedelta(days=1)), "PHC-01", "pick", "WH1-A-01", 3)  # 14.00
    books.scan(day_noon(d1 + timedelta(days=2)), "PHC-01", "pick", "WH1-A-01", 2)  # 10.00
    out = tmp_path / "period.beancount"
    start, end = (d1 + timedelta(days=1)).isoformat(), (d1 + timedelta(days=2)).isoformat()
    code, _, err = cli(["ledger", "export-beancount", "--db", books.db_url, "-o", str(out),
                        "--from", start, "--to", end], capsys)  # fmt: skip
    assert code == 0, err
    assert bean_check(out).returncode == 0
    text = out.read_text()
    assert f'{start} * "opening PHC-01 qty +10"' in text  # carried in at 20.00
    assert f"{end} balance Assets:Inventory:PHC-01 14.0000 EUR" in text
    assert text.count(" * ") == 2  # the opening and the one sale in the period
    code, _, err = cli(["ledger", "export-beancount", "--db", books.db_url, "-o", str(out),
                        "--from", end, "--to", start], capsys)  # fmt: skip
    assert (code, "bad period" in err) == (1, True)
    later = (d1 + timedelta(days=30)).isoformat()  # after every effect: all carried in
    code, _, err = cli(["ledger", "export-beancount", "--db", books.db_url, "-o", str(out),
                        "--from", later], capsys)  # fmt: skip
    assert code == 0, err
    assert bean_check(out).returncode == 0
    assert f'{later} * "opening PHC-01 qty +5"' in out.read_text()


def test_readers_see_valuation_and_kpis_and_only_an_admin_changes_the_company(
    books: Books,
) -> None:
    client = books.api.client
    tokens = {}
    for role in ("readonly", "clerk"):
        doc = books.api.post("/v1/tokens", {"name": f"{role}-1", "role": role})
        tokens[role] = {"Authorization": f"Bearer {doc['token']}"}
    period = {"from": "2026-01-01", "to": "2026-01-02"}
    for headers in tokens.values():
        assert client.get("/v1/company", headers=headers).status_code == 200
        assert client.get("/v1/valuation", headers=headers).status_code == 200
        assert client.get("/v1/valuation/PHC-01/cogs", headers=headers).status_code == 200
        assert client.get("/v1/reports/kpis", params=period, headers=headers).status_code == 200
        response = client.put("/v1/company", json={"currency": "USD"}, headers=headers)
        assert response.status_code == 403
    assert books.api.get("/v1/company")["currency"] == "EUR"


def test_report_valuation_prints_a_table_or_json(
    books: Books, capsys: pytest.CaptureFixture[str]
) -> None:
    two_receipts_and_a_sale(books)
    code, out, _ = cli(["report", "valuation", "--db", books.db_url], capsys)
    assert code == 0
    assert out.splitlines()[0] == "Valuation now, fifo, EUR"
    assert re.search(r"^PHC-01 +8 +3\.0000 +24\.00$", out, re.M), out
    assert re.search(r"^TOTAL +24\.00$", out, re.M), out
    code, out, _ = cli(["report", "valuation", "--db", books.db_url, "--json"], capsys)
    assert code == 0
    assert json.loads(out) == books.valuation()
    code, _, err = cli(["report", "valuation", "--db", books.db_url, "--as-of", "x"], capsys)
    assert (code, "bad as_of" in err) == (1, True)
