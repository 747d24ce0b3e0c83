"""Schema migrations with Alembic: `upgrade(db)` brings any ledger to the newest schema.

The scripts live in `server/migrations/versions`. A ledger made before migrations existed
(tables present, no `alembic_version`) is stamped as the baseline first, then upgraded.
`stockwire ledger migrate` runs this; so does the ledger on start-up.
"""

from __future__ import annotations

from pathlib import Path

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


async def upgrade(db: Database, target: str = "head") -> tuple[str | None, str | None]:
    """Upgrade to `target`; returns (revision before, revision after)."""
    async with db.engine.connect() as conn:
        await conn.execution_options(sw_write=True)
        async with conn.begin():
            return await conn.run_sync(_upgrade, target)


async def revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(current)
