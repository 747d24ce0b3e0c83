"""CSV import of the catalog and of the baseline stocktake: all rows or none, every row error
named with its row, opening stock booked at its cost with lots and expiries."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from server.cli import add_commands
from server.db.engine import Database
from server.errors import Refused
from server.imports.csvfile import read
from server.imports.stocktake import LAYOUT as STOCKTAKE
from tests.server.support import ADMIN, Api

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def post_csv(api: Api, path: str, body: bytes | str, status: int = 200, **params: Any) -> Any:
    content = body.encode() if isinstance(body, str) else body
    headers = ADMIN | {"Content-Type": "text/csv"}
    response = api.client.post(path, params=params, content=content, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def problems(doc: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["reason"]) for e in doc["errors"]]


def rows(db_url: str, query: str) -> list[tuple[Any, ...]]:
    async def go() -> list[tuple[Any, ...]]:
        db = Database(db_url)
        try:
            return await db.read(lambda conn: [tuple(r) for r in conn.execute(text(query))])
        finally:
            await db.dispose()

    return asyncio.run(go())


def state(api: Api, db_url: str) -> tuple[Any, ...]:
    """Everything an import could write."""
    moves = rows(db_url, "SELECT count(*) FROM movements")
    takes = rows(db_url, "SELECT count(*) FROM stocktakes")
    return api.get("/v1/skus"), api.get("/v1/stock"), moves, takes


def gtins(api: Api) -> dict[str, list[tuple[str, int]]]:
    return {
        s["sku"]: [(g["gtin"], g["multiplier"]) for g in s["gtins"]]
        for s in api.get("/v1/skus")["skus"]
    }


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stockwire")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_a_catalog_file_creates_skus_with_pack_gtins_and_a_case_scan_books_the_case(
    api: Api,
) -> None:
    api.seed()
    doc = post_csv(api, "/v1/imports/catalog", (DATA / "catalog.csv").read_bytes())
    assert doc == {
        "dry_run": False,
        "rows": 4,
        "created": ["SHP-250", "CND-250", "TSP-75"],
        "updated": [{"sku": "PHC-01", "changed": ["unit_cost", "reorder_point", "reorder_qty"]}],
        "unchanged": [],
        "gtins_added": 6,
    }
    codes = gtins(api)
    assert codes["SHP-250"] == [
        ("09506000131009", 1), ("19506000131006", 6), ("29506000131003", 24)]  # fmt: skip
    assert codes["CND-250"] == [("09506000132006", 1), ("29506000132000", 12)]
    assert codes["TSP-75"] == [("00042100005264", 1)]
    skus = {s["sku"]: s for s in api.get("/v1/skus")["skus"]}
    assert skus["CND-250"]["name"] == "Conditioner 250 ml, dry hair"
    assert (skus["SHP-250"]["unit_cost"], skus["SHP-250"]["reorder_point"]) == ("3.10", 20)
    assert (skus["PHC-01"]["unit_cost"], skus["PHC-01"]["reorder_qty"]) == ("2.25", 20)
    assert skus["PHC-01"]["name"] == "Phone case"
    assert api.get("/v1/skus/SHP-250/safety-stock")["safety_stock"] == 4

    assert api.scan("dock", "29506000131003", "receive", "WH1-A-01")["status"] == "booked"
    assert api.scan("dock", "19506000131006", "receive", "WH1-A-01")["status"] == "booked"
    assert api.on_hand("SHP-250", "WH1-A-01") == 24 + 6

    again = post_csv(api, "/v1/imports/catalog", (DATA / "catalog.csv").read_bytes())
    assert (again["created"], again["updated"], again["gtins_added"]) == ([], [], 0)
    assert again["unchanged"] == ["SHP-250", "CND-250", "TSP-75", "PHC-01"]


def test_every_row_error_is_reported_at_once_with_its_row_and_nothing_is_written(
    api: Api, db_url: str
) -> None:
    api.seed()
    before = state(api, db_url)
    doc = post_csv(api, "/v1/imports/catalog", (DATA / "catalog_errors.csv").read_bytes(), 422)
    assert doc["reason"] == "invalid rows"
    assert doc["detail"] == "11 error(s) in 11 row(s) of the catalog file; nothing was imported"
    assert problems(doc) == [
        (3, "gtin", "check digit"),
        (4, "gtin", "not a valid GTIN"),
        (5, "sku", "duplicate sku"),
        (6, "gtin", "duplicate gtin"),
        (7, "gtin", "gtin in use"),
        (8, "unit_cost", "bad number"),
        (9, "reorder_point", "negative qty"),
        (10, "case_qty", "missing value"),
        (12, "", "missing column"),
        (13, "gtin", "not a valid GTIN"),
        (14, "gtin", "check digit"),
    ]
    details = {e["row"]: e["detail"] for e in doc["errors"]}
    assert details[3] == "GTIN 5901234123458 has check digit 8, 7 expected"
    assert details[5] == "OK-1 is also on row 2"
    assert details[6] == "GTIN 09506000133003 is also on row 2"
    assert details[7] == "GTIN 05901234123457 already names PHC-01"
    assert details[8] == "'1,50' is not a number (use '.' as the decimal separator)"
    assert "scientific notation" in details[13]
    assert details[14] == "GTIN 9506000141092 has check digit 2, 1 expected"  # not AI 95
    assert doc["more"] == 0
    assert state(api, db_url) == before  # OK-1 (row 2) was fine, and is not there either


def test_a_header_without_a_required_column_or_with_an_unknown_one_is_row_1(api: Api) -> None:
    doc = post_csv(api, "/v1/imports/catalog", "name,gtin,case_gtin,colour\nX,,,red\n", 422)
    assert problems(doc) == [
        (1, "colour", "unknown column"),
        (1, "sku", "missing column"),
        (1, "case_qty", "missing column"),
    ]
    doc = post_csv(api, "/v1/imports/stocktake", "sku,loc,sku\nA,B,C\n", 422, ref="T1")
    assert problems(doc) == [(1, "sku", "duplicate column"), (1, "qty", "missing column")]


@pytest.mark.parametrize("variant", ["bom", "semicolon", "crlf", "all three"])
def test_bom_semicolon_and_crlf_files_import_like_a_plain_one(api: Api, variant: str) -> None:
    api.seed()
    body = (DATA / "catalog.csv").read_text()
    if variant in ("semicolon", "all three"):
        body = body.replace('"Conditioner 250 ml, dry hair"', "Conditioner 250 ml, dry hair")
        body = body.replace(",", ";").replace("ml; dry", "ml, dry")
    if variant in ("crlf", "all three"):
        body = body.replace("\n", "\r\n")
    data = body.encode()
    if variant in ("bom", "all three"):
        data = b"\xef\xbb\xbf" + data
    doc = post_csv(api, "/v1/imports/catalog", data)
    assert doc["created"] == ["SHP-250", "CND-250", "TSP-75"]
    skus = {s["sku"]: s for s in api.get("/v1/skus")["skus"]}
    assert skus["CND-250"]["name"] == "Conditioner 250 ml, dry hair"
    assert skus["TSP-75"]["unit_cost"] == "0.95"
    assert gtins(api)["SHP-250"][2] == ("29506000131003", 24)


def test_an_existing_sku_keeps_what_its_empty_cells_leave_out_and_its_gtin_multipliers(
    api: Api,
) -> None:
    api.seed()
    doc = post_csv(api, "/v1/imports/catalog", "sku,name,unit_cost,reorder_point\nCLN-200,,4.50,\n")
    assert doc["updated"] == [{"sku": "CLN-200", "changed": ["unit_cost"]}]
    cln = next(s for s in api.get("/v1/skus")["skus"] if s["sku"] == "CLN-200")
    assert (cln["name"], cln["unit_cost"], cln["reorder_point"]) == (
        "Facial cleanser 200 ml", "4.50", 30)  # fmt: skip
    body = "sku,case_gtin,case_qty\nCLN-200,09506000134352,6\n"
    doc = post_csv(api, "/v1/imports/catalog", body, 422)
    assert problems(doc) == [(2, "case_gtin", "multiplier differs")]
    assert (
        doc["errors"][0]["detail"] == "GTIN 09506000134352 stands for 1 unit(s) of CLN-200, not 6"
    )


def test_a_supplier_column_names_the_default_supplier_by_code(api: Api) -> None:
    api.seed()
    api.post("/v1/suppliers", {"code": "ACME", "name": "Acme Cosmetics", "lead_time_days": 7})
    body = "sku,name,supplier\nNEW-9,New,ACME\nCLN-200,,ACME\nGUM-12,,NOBODY\n"
    doc = post_csv(api, "/v1/imports/catalog", body, 422)
    assert problems(doc) == [(4, "supplier", "unknown supplier")]
    doc = post_csv(api, "/v1/imports/catalog", body.replace("NOBODY", ""))
    assert doc["updated"] == [{"sku": "CLN-200", "changed": ["supplier"]}]
    skus = {s["sku"]: s["supplier"] for s in api.get("/v1/skus")["skus"]}
    assert skus == {"NEW-9": "ACME", "CLN-200": "ACME", "GUM-12": None, "PHC-01": None}


def test_the_error_list_stops_at_1000_and_says_how_many_more(api: Api) -> None:
    body = "sku,unit_cost\n" + "".join(f"S{i},x\n" for i in range(1200))
    doc = post_csv(api, "/v1/imports/catalog", body, 422)
    assert (len(doc["errors"]), doc["more"]) == (1000, 200)
    assert doc["errors"][999] == {
        "row": 1001, "column": "unit_cost", "reason": "bad number",
        "detail": "'x' is not a number"}  # fmt: skip


def test_a_file_over_the_limits_or_not_utf8_is_refused_whole(api: Api) -> None:
    with pytest.raises(Refused, match="more than 3 rows"):
        read(b"sku,loc,qty\nA,B,1\nA,B,2\nA,B,3\n\n\nA,B,4\n", STOCKTAKE, max_rows=3)
    with pytest.raises(Refused, match="more than 10 bytes"):
        read(b"sku,loc,qty\n", STOCKTAKE, max_bytes=10)
    assert len(read(b"sku,loc,qty\nA,B,1\nA,B,2\nA,B,3\n", STOCKTAKE, max_rows=3).records) == 3
    many = "sku,loc,qty\n" + "A,B,1\n" * 10_001
    doc = post_csv(api, "/v1/imports/stocktake", many, 422, ref="BIG")
    assert doc == {"detail": "too many rows: more than 10000 rows: split the file",
                   "reason": "too many rows"}  # fmt: skip
    big = b"sku\n" + b"X" * (4 * 1024 * 1024)
    response = api.client.post("/v1/imports/catalog", content=big, headers=ADMIN)
    assert response.status_code == 413
    doc = post_csv(api, "/v1/imports/catalog", "sku,name\nA,Caf\xe9\n".encode("latin-1"), 422)
    assert doc == {"detail": "not utf-8: byte 14 (line 2) is not UTF-8: save the file as UTF-8",
                   "reason": "not utf-8"}  # fmt: skip
    doc = post_csv(api, "/v1/imports/catalog", 'sku,name\nA,"open\n', 422)
    assert doc["reason"] == "bad csv"
    doc = post_csv(api, "/v1/imports/catalog", "\r\n\r\n", 422)
    assert doc["reason"] == "empty file"


def test_a_baseline_stocktake_books_opening_stock_with_costs_lots_and_expiries(
    api: Api, db_url: str
) -> None:
    api.seed()
    post_csv(api, "/v1/imports/catalog", (DATA / "catalog.csv").read_bytes())
    doc = post_csv(
        api, "/v1/imports/stocktake", (DATA / "stocktake.csv").read_bytes(), ref="OPEN-2026"
    )
    assert (doc["ref"], doc["rows"], doc["movements"]) == ("OPEN-2026", 5, 5)
    assert doc["lines"][1] == {
        "row": 3, "sku": "SHP-250", "loc": "WH1-A-01", "lot": "L2409", "expiry": "2027-09-30",
        "qty": 18, "before": 0, "delta": 18, "unit_cost": "3.1000"}  # fmt: skip
    stock = {(r["sku"], r["loc"], r["lot"]): (r["on_hand"], r["expiry"])
             for r in api.get("/v1/stock")["stock"]}  # fmt: skip
    assert stock == {
        ("SHP-250", "WH1-A-01", "L2406"): (30, "2027-06-30"),
        ("SHP-250", "WH1-A-01", "L2409"): (18, "2027-09-30"),
        ("SHP-250", "WH1-A-02", "L2406"): (12, "2027-06-30"),
        ("TSP-75", "WH1-B-02", ""): (100, None),
        ("PHC-01", "WH1-A-02", ""): (7, None),
    }
    moves = rows(
        db_url,
        "SELECT s.sku, f.code, t.code, m.qty, m.lot, m.kind, m.ref, m.unit_cost "
        "FROM movements m JOIN skus s ON s.id = m.sku_id JOIN locations f ON f.id = m.from_loc_id "
        "JOIN locations t ON t.id = m.to_loc_id ORDER BY m.id",
    )
    adjust = "count-adjustment"
    assert [(*m[:7], f"{m[7]:.4f}") for m in moves] == [
        ("SHP-250", adjust, "WH1-A-01", 30, "L2406", "opening", "OPEN-2026", "3.0500"),
        ("SHP-250", adjust, "WH1-A-01", 18, "L2409", "opening", "OPEN-2026", "3.1000"),
        ("SHP-250", adjust, "WH1-A-02", 12, "L2406", "opening", "OPEN-2026", "3.0500"),
        ("TSP-75", adjust, "WH1-B-02", 100, "", "opening", "OPEN-2026", "0.9000"),
        ("PHC-01", adjust, "WH1-A-02", 7, "", "opening", "OPEN-2026", "2.2500"),
    ]
    assert run(["ledger", "check", "--db", db_url]) == 0


def test_a_stocktake_sets_the_bin_to_the_count_and_a_ref_is_imported_once(
    api: Api, db_url: str
) -> None:
    api.seed()
    api.scan("dock", "5901234123457", "receive", "WH1-A-02", qty=10)
    body = "sku,loc,qty\nPHC-01,WH1-A-02,7\nCLN-200,WH1-A-01,0\nGUM-12,WH2-A-01,3\n"
    doc = post_csv(api, "/v1/imports/stocktake", body, ref="BASE-1")
    assert [(x["before"], x["delta"], x["unit_cost"]) for x in doc["lines"]] == [
        (10, -3, None), (0, 0, None), (0, 3, "0.5000")]  # fmt: skip
    assert doc["movements"] == 2
    assert api.on_hand("PHC-01", "WH1-A-02") == 7
    kinds = rows(db_url, "SELECT kind, qty FROM movements WHERE ref = 'BASE-1' ORDER BY id")
    assert kinds == [("stocktake", 3), ("opening", 3)]
    before = state(api, db_url)
    doc = post_csv(api, "/v1/imports/stocktake", body, 409, ref="BASE-1")
    assert doc == {"detail": "stocktake exists: stocktake 'BASE-1' was imported already",
                   "reason": "stocktake exists"}  # fmt: skip
    post_csv(api, "/v1/imports/stocktake", body, 409, ref="BASE-1", dry_run="true")
    assert state(api, db_url) == before


def test_stocktake_row_errors_are_all_reported_and_nothing_is_booked(api: Api, db_url: str) -> None:
    api.seed()
    before = state(api, db_url)
    data = (DATA / "stocktake_errors.csv").read_bytes()
    doc = post_csv(api, "/v1/imports/stocktake", data, 422, ref="OPEN-1")
    assert problems(doc) == [
        (3, "sku", "unknown sku"),
        (4, "loc", "unknown location"),
        (5, "expiry", "bad expiry"),
        (6, "qty", "negative qty"),
        (7, "", "duplicate line"),
        (8, "qty", "bad number"),
        (9, "loc", "unknown location"),
        (10, "expiry", "expiry differs"),
        (11, "unit_cost", "negative cost"),
    ]
    details = {e["row"]: e["detail"] for e in doc["errors"]}
    assert details[7] == "CLN-200 at WH1-A-01 lot L1 is also on row 2"
    assert details[9] == "'customer' is a virtual location"
    assert details[10] == "lot L1 of CLN-200 expires 2027-06-30 on row 2"
    assert state(api, db_url) == before
    ok = b"sku,loc,lot,expiry,qty,unit_cost\nCLN-200,WH1-A-01,L1,2027-06-30,10,3.90\n"
    assert post_csv(api, "/v1/imports/stocktake", ok, ref="OPEN-1")["movements"] == 1


def test_a_stocktake_row_at_a_zone_or_warehouse_is_refused_stock_lives_in_bins(api: Api) -> None:
    api.seed()
    api.post("/v1/locations", {"code": "S7", "kind": "site"})
    api.post("/v1/locations", {"code": "WH7", "kind": "warehouse", "parent": "S7"})
    api.post("/v1/locations", {"code": "WH7-A", "kind": "zone", "parent": "WH7"})
    body = b"sku,loc,qty\nPHC-01,WH7,5\nPHC-01,WH7-A,5\n"
    doc = post_csv(api, "/v1/imports/stocktake", body, 422, ref="ZONE-1")
    assert [(e["row"], e["column"], e["reason"], e["detail"]) for e in doc["errors"]] == [
        (2, "loc", "unknown location", "'WH7' is a warehouse: stock is booked at bins"),
        (3, "loc", "unknown location", "'WH7-A' is a zone: stock is booked at bins"),
    ]
    refused = api.post("/v1/stocktakes", {"ref": "ZONE-2", "lines": [
        {"sku": "PHC-01", "loc": "WH7-A", "qty": 5}]}, status=422)  # fmt: skip
    assert refused["reason"] == "unknown location"
    assert refused["detail"] == "unknown location: WH7-A is a zone: stock is booked at bins"


def test_a_stocktake_over_the_api_refuses_a_line_given_twice_and_an_empty_body(api: Api) -> None:
    api.seed()
    twice = [{"sku": "PHC-01", "loc": "WH1-A-01", "qty": 5},
             {"sku": "PHC-01", "loc": "WH1-A-01", "qty": 7}]  # fmt: skip
    refused = api.post("/v1/stocktakes", {"ref": "DUP-1", "lines": twice}, status=422)
    assert refused["reason"] == "duplicate line"
    assert refused["detail"] == "duplicate line: PHC-01 at WH1-A-01 is on line 1 and 2"
    empty = api.post("/v1/stocktakes", {"ref": "DUP-1", "lines": []}, status=422)
    assert empty["reason"] == "invalid request"
    assert api.on_hand("PHC-01") == 0
    api.post("/v1/stocktakes", {"ref": "DUP-1", "lines": twice[:1]})  # the ref is still free
    assert api.on_hand("PHC-01") == 5


def test_a_sku_of_a_rejected_catalog_file_is_unknown_to_a_stocktake(api: Api) -> None:
    api.seed()
    post_csv(api, "/v1/imports/catalog", (DATA / "catalog_errors.csv").read_bytes(), 422)
    doc = post_csv(api, "/v1/imports/stocktake", "sku,loc,qty\nOK-1,WH1-A-01,5\n", 422, ref="S1")
    assert problems(doc) == [(2, "sku", "unknown sku")]


def test_a_lot_the_ledger_knows_keeps_its_expiry(api: Api) -> None:
    api.seed()
    body = "sku,loc,lot,expiry,qty\nCLN-200,WH1-A-01,L7,2027-01-31,5\n"
    post_csv(api, "/v1/imports/stocktake", body, ref="A")
    body = "sku,loc,lot,expiry,qty\nCLN-200,WH1-A-02,L7,2027-02-28,5\n"
    doc = post_csv(api, "/v1/imports/stocktake", body, 422, ref="B")
    assert doc["errors"][0]["detail"] == (
        "lot L7 of CLN-200 expires 2027-01-31 in the ledger, not 2027-02-28"
    )
    doc = post_csv(api, "/v1/imports/stocktake", "sku,loc,lot,qty\nCLN-200,WH1-A-02,L7,5\n",
                   ref="B")  # fmt: skip
    assert doc["lines"][0]["expiry"] == "2027-01-31"


def test_a_dry_run_checks_and_answers_but_writes_nothing(api: Api, db_url: str) -> None:
    api.seed()
    before = state(api, db_url)
    doc = post_csv(api, "/v1/imports/catalog", (DATA / "catalog.csv").read_bytes(), dry_run="true")
    assert (doc["dry_run"], doc["created"]) == (True, ["SHP-250", "CND-250", "TSP-75"])
    body = "sku,loc,qty,unit_cost\nPHC-01,WH1-A-01,4,1.5\n"
    doc = post_csv(api, "/v1/imports/stocktake", body, ref="DRY", dry_run="true")
    assert doc["lines"][0] | {"row": 0} == {
        "row": 0, "sku": "PHC-01", "loc": "WH1-A-01", "lot": "", "expiry": None, "qty": 4,
        "before": 0, "delta": 4, "unit_cost": "1.5000"}  # fmt: skip
    assert state(api, db_url) == before
    post_csv(api, "/v1/imports/stocktake", body, ref="DRY")  # the ref was not taken


def test_roles_an_admin_imports_the_catalog_and_a_clerk_the_stocktake(api: Api) -> None:
    api.seed()
    token = api.post("/v1/tokens", {"name": "clerk-1", "role": "clerk"})["token"]
    clerk = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    body = "sku,loc,qty\nPHC-01,WH1-A-01,4\n"
    answer = api.client.post("/v1/imports/stocktake?ref=C1", content=body, headers=clerk)
    assert answer.status_code == 200, answer.text
    answer = api.client.post("/v1/imports/catalog", content="sku\nZ-1\n", headers=clerk)
    assert answer.status_code == 403
    form = api.client.post("/v1/imports/catalog", files={"file": ("c.csv", b"sku\nZ-1\n")},
                           headers=ADMIN)  # fmt: skip
    assert form.status_code == 415


def test_the_cli_imports_files_and_exits_1_on_row_errors_and_2_without_a_ledger(
    api: Api, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.seed()
    catalog = str(DATA / "catalog.csv")
    assert run(["ledger", "import", "catalog", catalog, "--db", db_url, "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("dry run, nothing written: 4 row(s)")
    assert run(["ledger", "import", "catalog", catalog, "--db", db_url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ok: 4 row(s): 3 SKU(s) created, 1 updated, 0 unchanged; 6 GTIN(s) added",
        "  created: SHP-250, CND-250, TSP-75",
        "  updated: PHC-01 (unit_cost, reorder_point, reorder_qty)",
    ]
    stocktake = str(DATA / "stocktake.csv")
    argv = ["ledger", "import", "stocktake", stocktake, "--ref", "OPEN", "--db", db_url]
    assert run(argv) == 0
    assert capsys.readouterr().out == (
        "ok: stocktake OPEN: 5 row(s), 5 movement(s): +167 unit(s) in, -0 out\n"
    )
    assert api.on_hand("SHP-250") == 60
    assert run(argv) == 1
    assert "stocktake 'OPEN' was imported already" in capsys.readouterr().err
    bad = str(DATA / "catalog_errors.csv")
    assert run(["ledger", "import", "catalog", bad, "--db", db_url]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "stockwire ledger import catalog: 11 error(s) in 11 row(s) of the catalog file; "
        "nothing was imported"
    )
    assert err[1] == "  row 3, gtin: check digit: GTIN 5901234123458 has check digit 8, 7 expected"
    assert len(err) == 12
    missing = str(tmp_path / "nope.db")
    assert run(["ledger", "import", "catalog", catalog, "--db", missing]) == 2
    assert "no such file" in capsys.readouterr().err
    assert run(["ledger", "import", "catalog", str(tmp_path / "no.csv"), "--db", db_url]) == 2


def test_the_documented_examples_import_cleanly(api: Api) -> None:
    api.post("/v1/suppliers", {"code": "ACME", "name": "Acme Cosmetics", "lead_time_days": 7})
    api.post("/v1/suppliers", {"code": "NORDPACK", "name": "Nordpack", "lead_time_days": 14})
    for code in ("WH1-A-01", "WH1-A-02", "WH1-B-01", "WH1-B-02"):
        api.post("/v1/locations", {"code": code})
    catalog = post_csv(api, "/v1/imports/catalog", (EXAMPLES / "catalog.csv").read_bytes())
    assert catalog["updated"] == [] and len(catalog["created"]) == catalog["rows"]
    data = (EXAMPLES / "stocktake.csv").read_bytes()
    doc = post_csv(api, "/v1/imports/stocktake", data, ref="OPENING-2026")
    assert doc["movements"] == doc["rows"]
