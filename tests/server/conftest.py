"""Ledger fixtures: every ledger test runs on a real SQLite file and on a real PostgreSQL
(a fresh schema per test in the database named by STOCKWIRE_TEST_PG_URL)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from server.app import create_app
from server.settings import Settings
from tests.server.support import ADMIN_TOKEN, GATEWAY_TOKENS, Api

BACKENDS = ["sqlite", "postgresql"]


def _pg_base_url() -> str:
    url = os.environ.get("STOCKWIRE_TEST_PG_URL", "")
    if not url:
        pytest.fail(
            "STOCKWIRE_TEST_PG_URL is not set: the ledger tests need a real PostgreSQL. Run them "
            "via `make test` (which provides one) or set STOCKWIRE_TEST_PG_URL to "
            "postgresql://USER@HOST:PORT/DB of a database they may use.",
            pytrace=False,
        )
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL of an empty ledger on the parametrized backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
        return
    base = _pg_base_url()
    schema = f"sw_test_{uuid.uuid4().hex[:12]}"
    pg_execute(base, f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        pg_execute(base, f"DROP SCHEMA {schema} CASCADE")


def pg_execute(url: str, sql: str) -> None:
    """One statement on the PostgreSQL server of `url`, outside any transaction."""

    async def go() -> None:
        u = make_url(url)
        conn = await asyncpg.connect(
            host=u.host, port=u.port, user=u.username, password=u.password, database=u.database
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


def make_settings(db_url: str, dispatcher: bool = True) -> Settings:
    return Settings(
        db_url=db_url,
        admin_token=ADMIN_TOKEN,
        gateway_tokens=GATEWAY_TOKENS,
        dispatcher=dispatcher,
        push_timeout_s=2.0,
    )


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    """The ledger app (lifespan running, dispatcher on) behind an admin/gateway helper."""
    with TestClient(create_app(make_settings(db_url))) as client:
        yield Api(client)
