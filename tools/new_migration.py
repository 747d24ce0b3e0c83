"""Write a new Alembic migration: the difference between the models (server/db/schema.py)
and a fresh SQLite ledger upgraded to the current head. Review the file it writes.

    .venv/bin/python -m tools.new_migration "what changed" 0003
"""

from __future__ import annotations

import asyncio
import sys
import tempfile

from alembic import command
from sqlalchemy import Connection

from server.db import migrate
from server.db.engine import Database


async def main(message: str, rev_id: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/ledger.db")

        def write(conn: Connection) -> None:
            cfg = migrate.config(conn)
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)

        try:
            async with db.engine.connect() as conn:
                await conn.execution_options(sw_write=True)
                async with conn.begin():
                    await conn.run_sync(write)
        finally:
            await db.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
