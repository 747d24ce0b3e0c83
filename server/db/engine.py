"""Engines and transactions: SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE) or PostgreSQL.

`Database.write()` is the only way to change data: on SQLite it opens with BEGIN IMMEDIATE so
concurrent writers queue on the busy timeout instead of failing on upgrade; on PostgreSQL it is
a READ COMMITTED transaction and the services take row locks where stock is decided.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from server.db.schema import metadata

_BUSY_TIMEOUT_S = 60.0
TOUCHED = "sw_touched"  # conn.info key: {(sku_id, loc_id)} whose balance changed


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": _BUSY_TIMEOUT_S}, pool_size=10)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("sw_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """One engine plus read/write transaction helpers; the same code on both backends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url)
        elif self.dialect == "postgresql":
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        else:
            raise ValueError(f"unsupported database {self.dialect!r}: use sqlite or postgresql")
        self._after_commit: list[Callable[[], None]] = []
        self._before_commit: list[Callable[[Connection, set[tuple[int, int]]], None]] = []

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def create_schema(self) -> None:
        with self.engine.begin() as conn:
            metadata.create_all(conn)

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Call `hook` after every committed write (the channel dispatcher's wake-up)."""
        self._after_commit.append(hook)

    def before_commit(self, hook: Callable[[Connection, set[tuple[int, int]]], None]) -> None:
        """Run `hook(conn, touched)` at the end of every write that changed balances, inside
        the transaction (outbox marks, reorder alerts): they commit or roll back together."""
        self._before_commit.append(hook)

    @contextmanager
    def write(self, notify: bool = True) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); commits when the block ends."""
        with self.engine.connect().execution_options(sw_write=True) as conn, conn.begin():
            conn.info[TOUCHED] = set()
            yield conn
            touched = conn.info.pop(TOUCHED, set())
            if touched:
                for before in self._before_commit:
                    before(conn, touched)
        if notify:
            for hook in self._after_commit:
                hook()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
