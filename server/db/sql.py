"""Small SQL helpers both backends understand: insert-or-ignore, upsert-add, clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(
    conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str]
) -> int:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; returns rows inserted (0 or 1)."""
    stmt = _insert(conn, table).values(**values).on_conflict_do_nothing(index_elements=list(keys))
    return int(conn.execute(stmt).rowcount or 0)


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Mapping[str, Any],
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update (expressions may use `table.c`)."""
    stmt = _insert(conn, table).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=dict(update))
    conn.execute(stmt)


def now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime | None) -> str | None:
    """ISO-8601 with milliseconds and Z; SQLite hands back naive UTC."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
