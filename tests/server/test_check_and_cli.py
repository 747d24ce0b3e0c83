"""`stockwire ledger check` proves balances equal movements; `barcode explain` on the CLI."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from server.cli import add_commands
from tests.server.support import Api, execute_sql


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stockwire")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_ledger_check_passes_a_clean_ledger_and_names_a_tampered_balance(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.seed()
    api.scan("dock", "5901234123457", "receive", "WH1-A-01", qty=5)
    api.scan("hs-1", "5901234123457", "pick", "WH1-A-01", qty=2)
    assert run(["ledger", "check", "--db", db_url]) == 0
    execute_sql(db_url, "UPDATE balances SET on_hand = on_hand + 1 WHERE on_hand = 3")
    assert run(["ledger", "check", "--db", db_url]) == 1
    err = capsys.readouterr().err
    assert "PHC-01 at WH1-A-01: balance 4, movements say 3" in err


def test_barcode_explain_works_without_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["barcode", "explain", "]d201095011015300031727123110LOT42\x1d21SN0001",
                "--json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert (doc["gtin14"], doc["lot"], doc["expiry"], doc["serial"]) == (
        "09501101530003", "LOT42", "2027-12-31", "SN0001")  # fmt: skip
    assert run(["barcode", "explain", "5901234123458"]) == 1
    assert "check digit" in capsys.readouterr().out


def test_barcode_explain_names_the_sku_with_a_database(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.seed()
    assert run(["barcode", "explain", "]E05901234123457", "--json", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["sku"] == "PHC-01"
    assert run(["barcode", "explain", "4006381333931", "--json", "--db", db_url]) == 1
    assert json.loads(capsys.readouterr().out)["refused"] == "unknown barcode"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ledger_check_accepts_a_plain_path_to_a_sqlite_ledger(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.seed()
    path = db_url.removeprefix("sqlite:///")
    assert run(["ledger", "check", "--db", path]) == 0
    assert "ok:" in capsys.readouterr().out


@pytest.mark.parametrize("form", ["path", "url"])
def test_ledger_check_of_a_missing_sqlite_file_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    missing = tmp_path / "nope.db"
    arg = str(missing) if form == "path" else f"sqlite:///{missing}"
    for argv in (["ledger", "check", "--db", arg], ["barcode", "explain", "x", "--db", arg]):
        assert run(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no such file" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_ledger_check_of_a_file_that_is_no_ledger_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a valid, empty SQLite file
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database at all\n" * 100)
    for arg, says in ((str(empty), "not a Stockwire ledger"), (str(text_file), "cannot open")):
        before = sorted(p.name for p in tmp_path.iterdir())
        assert run(["ledger", "check", "--db", arg]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal, no tables
    assert run(["ledger", "check", "--db", "mysql://h/db"]) == 2
    assert "unsupported database" in capsys.readouterr().err


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_ledger_check_of_a_postgresql_database_that_does_not_exist_says_so(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_url(db_url).set(database="sw_no_such_database", query={})
    assert run(["ledger", "check", "--db", url.render_as_string(hide_password=False)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot open" in err[0] and "sw_no_such_database" in err[0]


def test_ledger_check_reports_impossible_values_instead_of_crashing(
    api: Api, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.seed()
    api.scan("dock", "5901234123457", "receive", "WH1-A-01", qty=5)
    api.scan("dock", "5901234123457", "receive", "WH1-A-01", qty=2)
    execute_sql(
        db_url,
        "UPDATE movements SET qty = -5",
        "UPDATE balances SET on_hand = -7 WHERE on_hand = 7",
    )
    assert run(["ledger", "check", "--db", db_url]) == 1
    err = capsys.readouterr().err
    assert "qty -5 (a movement moves 1 or more units)" in err
    assert "on_hand -7: stock here cannot go below 0" in err
    if db_url.startswith("sqlite"):  # SQLite keeps whatever it is given
        execute_sql(
            db_url,
            "UPDATE balances SET on_hand = 'lots' WHERE on_hand = -7",
            f"UPDATE movements SET qty = {2**62}",  # SQL SUM overflows
        )
        assert run(["ledger", "check", "--db", db_url]) == 1
        err = capsys.readouterr().err
        assert "on_hand 'lots' is not a whole number" in err
        assert f"PHC-01 at WH1-A-01: balance 0, movements say {2**63}" in err
