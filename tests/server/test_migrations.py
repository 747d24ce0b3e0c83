"""Schema migrations: a new ledger is built by Alembic and matches the models; a ledger from
before migrations is stamped and upgraded with its stock intact; `ledger migrate` says what
it did."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from server.app import open_database
from server.cli import add_commands
from server.db import migrate
from server.db.engine import Database
from server.db.schema import metadata


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stockwire")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_a_new_ledger_is_migrated_to_the_newest_revision_and_matches_the_models(
    db_url: str,
) -> None:
    db = await open_database(db_url)
    try:
        assert await migrate.revision(db) == migrate.head()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await db.dispose()


def test_a_ledger_from_before_migrations_is_stamped_and_keeps_its_stock(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_first_release_ledger(db_url))
    assert run(["ledger", "migrate", "--db", db_url]) == 0
    assert f"0001 -> {migrate.head()}" in capsys.readouterr().out
    assert run(["ledger", "migrate", "--db", db_url]) == 0
    assert f"already at schema revision {migrate.head()}" in capsys.readouterr().out
    assert run(["ledger", "check", "--db", db_url]) == 0
    assert asyncio.run(_on_hand(db_url)) == 5


async def _first_release_ledger(db_url: str) -> None:
    """A ledger as the first release left it: baseline tables, no alembic_version, stock."""
    db = Database(db_url)
    try:
        await migrate.upgrade(db, migrate.BASELINE)  # the schema the first release made

        def first_release_data(conn: Connection) -> None:
            conn.execute(text("DROP TABLE alembic_version"))  # it used create_all
            for code, virtual in (("supplier", True), ("WH1-A-01", False)):
                conn.execute(
                    text("INSERT INTO locations (code, virtual, covered) VALUES (:c, :v, :cov)"),
                    {"c": code, "v": virtual, "cov": not virtual},
                )
            conn.execute(text("INSERT INTO skus (sku, name, unit_cost) VALUES ('PHC-01', '', 2)"))
            conn.execute(
                text(
                    "INSERT INTO movements (sku_id, from_loc_id, to_loc_id, qty, lot, serial, "
                    "kind, ref, booked_at) SELECT s.id, f.id, t.id, 5, '', '', 'receive', '', "
                    ":at FROM skus s, locations f, locations t "
                    "WHERE f.code = 'supplier' AND t.code = 'WH1-A-01'"
                ),
                {"at": datetime(2026, 11, 30, 10, tzinfo=UTC)},
            )
            conn.execute(
                text(
                    "INSERT INTO balances (sku_id, loc_id, lot, on_hand, reserved) "
                    "SELECT s.id, l.id, '', n, 0 FROM skus s, locations l, "
                    "(SELECT 5 AS n) q WHERE l.code = 'WH1-A-01' UNION ALL "
                    "SELECT s.id, l.id, '', -5, 0 FROM skus s, locations l "
                    "WHERE l.code = 'supplier'"
                )
            )

        await db.write_quietly(first_release_data)
    finally:
        await db.dispose()


async def _on_hand(db_url: str) -> int:
    db = await open_database(db_url)
    try:
        stock: int = await db.read(
            lambda conn: conn.execute(
                text(
                    "SELECT on_hand FROM balances b JOIN locations l ON l.id = b.loc_id "
                    "WHERE l.code = 'WH1-A-01'"
                )
            ).scalar_one()
        )
    finally:
        await db.dispose()
    return stock


def test_ledger_migrate_creates_a_new_sqlite_ledger(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new-ledger.db"
    assert run(["ledger", "migrate", "--db", str(path)]) == 0
    assert f"(empty) -> {migrate.head()}" in capsys.readouterr().out
    assert run(["ledger", "check", "--db", str(path)]) == 0
