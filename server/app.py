"""The app factory: `create_app(settings)` builds the database, the routes and the dispatcher.
Nothing is created at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from server.access.routes import router as access_router
from server.barcodes.routes import router as barcodes_router
from server.body_limit import BodyLimit
from server.catalog.routes import router as catalog_router
from server.channels.dispatcher import Dispatcher
from server.channels.order_routes import router as channel_orders_router
from server.channels.outbox import mark_touched
from server.channels.routes import router as channels_router
from server.counts.legacy import adopt as adopt_legacy_counts
from server.counts.routes import router as counts_router
from server.db.engine import Database
from server.db.migrate import upgrade
from server.errors import LedgerError, is_outage
from server.imports.routes import router as imports_router
from server.ingest.routes import router as ingest_router
from server.ledger.routes import router as ledger_router
from server.locations.routes import router as locations_router
from server.locations.service import ensure_virtual
from server.movements.routes import router as movements_router
from server.openapi import example
from server.openapi import finish as finish_openapi
from server.purchasing.routes import router as purchasing_router
from server.quarantine.routes import router as quarantine_router
from server.reorder.routes import router as reorder_router
from server.reorder.service import evaluate
from server.reports.kpi_routes import router as kpi_router
from server.reports.routes import router as reports_router
from server.reservations.routes import router as reservations_router
from server.settings import Settings
from server.suppliers.routes import router as suppliers_router
from server.validation import jsonable
from server.valuation.routes import router as valuation_router

log = logging.getLogger(__name__)


def ledger_database(url: str) -> Database:
    """The ledger's Database with its in-transaction hooks (channel outbox marks, reorder
    alerts) registered; `await prepare(db)` before first use."""
    db = Database(url)
    db.before_commit(mark_touched)
    db.before_commit(lambda conn, touched: evaluate(conn, {sku for sku, _ in touched}))
    return db


async def prepare(db: Database) -> tuple[str | None, str | None]:
    """Schema migrated to the newest revision and the virtual locations present; returns the
    schema revision before (the baseline for a ledger from before migrations) and after."""
    revisions = await upgrade(db)
    await db.write_quietly(ensure_virtual)
    await db.write_quietly(adopt_legacy_counts)  # counts from before cycle counts
    return revisions


async def open_database(url: str) -> Database:
    """A ready ledger database (migrated, hooks registered)."""
    db = ledger_database(url)
    await prepare(db)
    return db


_SECRET_WORDS = ("secret", "password", "token", "key")


def _without_secrets(errors: Any) -> list[Any]:
    """Validation errors with every `input` dropped that is, or holds, a secret field."""
    out = []
    for error in errors:
        error = dict(error)
        where = " ".join(str(p) for p in error.get("loc", ())).lower()
        holds = error.get("input")
        named = isinstance(holds, dict) and any(
            w in str(k).lower() for k in holds for w in _SECRET_WORDS
        )
        if named or any(w in where for w in _SECRET_WORDS):
            error.pop("input", None)
        out.append(error)
    return out


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

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        # a valid ISO time at the edge of the calendar (0001-01-01T00:00+14:00) has no UTC
        detail = f"out of range: {exc} (a date or number beyond what the ledger represents)"
        return JSONResponse({"detail": detail, "reason": "out of range"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # the errors echo the input, which may be NaN, a huge string or a lone surrogate, or
        # hold a secret: never echoed (where the body holds one, none of its input is)
        body = {"detail": jsonable(_without_secrets(exc.errors())), "reason": "invalid request"}
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

    @app.get("/healthz", responses=example({"status": "ok"}))
    async def healthz() -> dict[str, str]:
        """Liveness and database check; needs no token.

        200 once the database answers a query; 503 `database unavailable` when it does not."""
        await db.read(lambda conn: conn.exec_driver_sql("SELECT 1"))
        return {"status": "ok"}

    for router in (
        ingest_router,
        quarantine_router,
        catalog_router,
        locations_router,
        movements_router,
        ledger_router,
        counts_router,
        purchasing_router,
        suppliers_router,
        reorder_router,
        channels_router,
        channel_orders_router,
        reports_router,
        barcodes_router,
        access_router,
        imports_router,
        valuation_router,
        kpi_router,
        reservations_router,
    ):
        app.include_router(router)
    finish_openapi(app)
    return app
