"""Engines and transactions over SQLAlchemy's async engine: aiosqlite (WAL, synchronous=FULL,
BEGIN IMMEDIATE for writes) or asyncpg.

The services are plain functions of a synchronous-style `Connection`; `Database.write(fn, …)`
runs one of them inside one transaction on the async engine (`AsyncConnection.run_sync`), so
the event loop never blocks on the database and a service stays readable top to bottom.
On SQLite a write opens with BEGIN IMMEDIATE, so concurrent writers queue on the busy timeout
instead of failing on upgrade; on PostgreSQL it is READ COMMITTED and the services take row
locks where stock is decided.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from server.db.url import async_url, backend

_BUSY_TIMEOUT_S = 60.0
TOUCHED = "sw_touched"  # conn.info key: {(sku_id, loc_id)} whose balance changed
P = ParamSpec("P")
T = TypeVar("T")
BeforeCommit = Callable[[Connection, set[tuple[int, int]]], None]


def _sqlite_engine(url: Any, connect_args: dict[str, Any]) -> AsyncEngine:
    engine = create_async_engine(
        url,
        connect_args={"timeout": _BUSY_TIMEOUT_S, **connect_args},
        poolclass=AsyncAdaptedQueuePool,
        pool_size=10,
        max_overflow=10,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("sw_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_engine(url: str) -> AsyncEngine:
    """The async engine for an operator's URL (sqlite:///… or postgresql://…)."""
    driver_url, connect_args = async_url(url)
    if backend(url) == "sqlite":
        return _sqlite_engine(driver_url, connect_args)
    return create_async_engine(
        driver_url,
        connect_args=connect_args,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
    )


class Database:
    """One async engine plus the two ways in: `await db.write(fn, …)`, `await db.read(fn, …)`.
    The same service code runs on both backends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = backend(url)
        self.engine = make_engine(url)
        self._after_commit: list[Callable[[], None]] = []
        self._before_commit: list[BeforeCommit] = []

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Call `hook` after every committed write (the channel dispatcher's wake-up)."""
        self._after_commit.append(hook)

    def before_commit(self, hook: BeforeCommit) -> None:
        """Run `hook(conn, touched)` at the end of every write that changed balances, inside
        the transaction (outbox marks, reorder alerts): they commit or roll back together."""
        self._before_commit.append(hook)

    async def write(
        self,
        fn: Callable[Concatenate[Connection, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `fn(conn, …)` in a write transaction (BEGIN IMMEDIATE on SQLite); commit when
        it returns, roll back if it raises. Hooks registered with `on_commit` run after."""
        result = await self._write(fn, *args, **kwargs)
        for hook in self._after_commit:
            hook()
        return result

    async def write_quietly(
        self,
        fn: Callable[Concatenate[Connection, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`write` without waking the `on_commit` hooks (the dispatcher's own bookkeeping)."""
        return await self._write(fn, *args, **kwargs)

    async def _write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self.engine.connect() as conn:
            await conn.execution_options(sw_write=True)
            async with conn.begin():
                return await conn.run_sync(self._in_write, fn, args, kwargs)

    def _in_write(
        self, conn: Connection, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        conn.info[TOUCHED] = set()
        try:
            result = fn(conn, *args, **kwargs)
            touched = conn.info.get(TOUCHED, set())
            if touched:
                for before in self._before_commit:
                    before(conn, touched)
            return result
        finally:
            conn.info.pop(TOUCHED, None)

    async def read(
        self,
        fn: Callable[Concatenate[Connection, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `fn(conn, …)` in a read transaction (one consistent snapshot on SQLite)."""
        async with self.engine.connect() as conn, conn.begin():
            return await conn.run_sync(lambda sync: fn(sync, *args, **kwargs))

    async def connection(self) -> AsyncConnection:
        """A raw async connection (migrations, checks); the caller closes it."""
        return await self.engine.connect()

    async def dispose(self) -> None:
        await self.engine.dispose()
