"""The app factory: `create_app(settings)` builds the database, the routes and the dispatcher.
Nothing is created at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from server.barcodes.routes import router as barcodes_router
from server.body_limit import BodyLimit
from server.catalog.routes import router as catalog_router
from server.channels.dispatcher import Dispatcher
from server.channels.outbox import mark_touched
from server.channels.routes import router as channels_router
from server.counts.routes import router as counts_router
from server.db.engine import Database
from server.db.migrate import upgrade
from server.errors import LedgerError, is_outage
from server.ingest.routes import router as ingest_router
from server.ledger.routes import router as ledger_router
from server.locations.routes import router as locations_router
from server.locations.service import ensure_virtual
from server.purchasing.routes import router as purchasing_router
from server.quarantine.routes import router as quarantine_router
from server.reports.reorder import evaluate
from server.reports.routes import router as reports_router
from server.settings import Settings
from server.validation import jsonable

log = logging.getLogger(__name__)


def ledger_database(url: str) -> Database:
    """The ledger's Database with its in-transaction hooks (channel outbox marks, reorder
    alerts) registered; `await prepare(db)` before first use."""
    db = Database(url)
    db.before_commit(mark_touched)
    db.before_commit(lambda conn, touched: evaluate(conn, {sku for sku, _ in touched}))
    return db


async def prepare(db: Database) -> None:
    """Schema migrated to the newest revision and the virtual locations present."""
    await upgrade(db)
    await db.write_quietly(ensure_virtual)


async def open_database(url: str) -> Database:
    """A ready ledger database (migrated, hooks registered)."""
    db = ledger_database(url)
    await prepare(db)
    return db


def create_app(settings: Settings) -> FastAPI:
    db = ledger_database(settings.db_url)
    dispatcher = Dispatcher(db, settings.push_timeout_s, settings.push_poll_s)
    db.on_commit(dispatcher.wake)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await prepare(db)
        if settings.dispatcher:
            dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()
            await db.dispose()

    app = FastAPI(title="Stockwire ledger", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.dispatcher = dispatcher

    app.add_middleware(BodyLimit)

    @app.exception_handler(LedgerError)
    async def _ledger_error(_request: Request, exc: LedgerError) -> JSONResponse:
        body = {
            "detail": f"{exc.reason}: {exc.detail}" if exc.detail else exc.reason,
            "reason": exc.reason,
        }
        return JSONResponse(jsonable(body, 2000), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # the errors echo the input, which may be NaN, a huge string or a lone surrogate
        body = {"detail": jsonable(exc.errors()), "reason": "invalid request"}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(DBAPIError)
    async def _database(_request: Request, exc: DBAPIError) -> JSONResponse:
        if is_outage(exc):
            # locked past the busy timeout or unreachable: the gateway retries
            body = {"detail": f"database unavailable: {exc.orig}", "reason": "unavailable"}
            return JSONResponse(jsonable(body, 500), status_code=503, headers={"Retry-After": "1"})
        log.error("database error", exc_info=exc)
        body = {"detail": f"database error: {type(exc.orig).__name__}", "reason": "internal error"}
        return JSONResponse(body, status_code=500)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        await db.read(lambda conn: conn.exec_driver_sql("SELECT 1"))
        return {"status": "ok"}

    for router in (
        ingest_router,
        quarantine_router,
        catalog_router,
        locations_router,
        ledger_router,
        counts_router,
        purchasing_router,
        channels_router,
        reports_router,
        barcodes_router,
    ):
        app.include_router(router)
    return app
