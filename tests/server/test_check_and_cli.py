"""`stockwire ledger check` proves balances equal movements; `barcode explain` on the CLI."""

from __future__ import annotations

import argparse
import json

import pytest
from sqlalchemy import text

from server.cli import add_commands
from tests.server.support import Api


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
    db = api.client.app.state.db  # type: ignore[attr-defined]
    with db.write(notify=False) as conn:
        conn.execute(text("UPDATE balances SET on_hand = on_hand + 1 WHERE on_hand = 3"))
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
