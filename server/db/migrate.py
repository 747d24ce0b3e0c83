"""Schema migrations with Alembic: `upgrade(db)` brings any ledger to the newest schema.

The scripts live in `server/migrations/versions`. A ledger made before migrations existed
(tables present, no `alembic_version`) is stamped as the baseline first, then upgraded.
`stockwire ledger migrate` runs this; so does the ledger on start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from server.db.engine import Database

SCRIPTS = Path(__file__).resolve().parent.parent / "migrations"
BASELINE = "0001"


def config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection, target: str) -> tuple[str | None, str | None]:
    before = current(conn)
    cfg = config(conn)
    if before is None and inspect(conn).has_table("skus"):
        command.stamp(cfg, BASELINE)  # created by create_all before migrations existed
        before = BASELINE
    command.upgrade(cfg, target)
    return before, current(conn)


def _foreign_key_problems(conn: Connection) -> list[Any]:
    return list(conn.exec_driver_sql("PRAGMA foreign_key_check"))


async def upgrade(db: Database, target: str = "head") -> tuple[str | None, str | None]:
    """Upgrade to `target`; returns (revision before, revision after).

    On SQLite, Alembic alters a table by copying it; foreign keys are switched off for that
    (outside the transaction, where SQLite allows it) and checked before the commit."""
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection if db.is_sqlite else None
        if raw is not None:
            await raw.execute("PRAGMA foreign_keys=OFF")
        try:
            await conn.execution_options(sw_write=True)
            async with conn.begin():
                revisions = await conn.run_sync(_upgrade, target)
                if raw is not None and (bad := await conn.run_sync(_foreign_key_problems)):
                    raise RuntimeError(f"migration broke foreign keys: {bad[:5]}")
                return revisions
        finally:
            if raw is not None:
                await raw.execute("PRAGMA foreign_keys=ON")


async def revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(current)
