"""Processing one gateway batch: one write transaction, one savepoint per event, idempotent on
the event id `dev:seq` through the processed-events table (which keeps each outcome)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.db.engine import Database
from server.db.schema import processed_events
from server.db.sql import iso, now
from server.errors import Refused
from server.ingest.booking import book
from server.quarantine.service import keep
from stockwire.wire import EventResult as Result
from stockwire.wire import ScanEvent, WireError, scan_event_from_doc

_RETRIES = 5


def _duplicate(conn: Connection, ev: ScanEvent) -> Result | None:
    row = conn.execute(
        select(
            processed_events.c.status, processed_events.c.reason, processed_events.c.detail
        ).where(processed_events.c.event_id == ev.event_id)
    ).first()
    if row is None:
        return None
    return Result(ev.dev, ev.seq, "duplicate", row.reason, row.detail)


def _record(
    conn: Connection, ev: ScanEvent, gateway: str, status: str, reason: str = "", detail: str = ""
) -> None:
    conn.execute(
        processed_events.insert().values(
            event_id=ev.event_id,
            dev=ev.dev,
            seq=ev.seq,
            gateway=gateway,
            status=status,
            reason=reason,
            detail=detail,
            mode=ev.mode,
            loc=ev.loc,
            ref=ev.ref,
            code=ev.code,
            qty=ev.qty,
            processed_at=now(),
        )
    )


def _one(conn: Connection, gateway: str, doc: Any) -> Result:
    try:
        ev = scan_event_from_doc(doc)
    except WireError as exc:
        detail = str(exc)
        keep(conn, doc, "bad event", detail, gateway)
        dev, seq = (doc.get("dev"), doc.get("seq")) if isinstance(doc, dict) else (None, None)
        return Result(dev, seq, "refused", "bad event", detail)
    gw_ts = doc.get("gw_ts")
    gw_ts = gw_ts if isinstance(gw_ts, int) and not isinstance(gw_ts, bool) else None
    if (dup := _duplicate(conn, ev)) is not None:
        return dup
    savepoint = conn.begin_nested()
    try:
        _record(conn, ev, gateway, "booked")  # first: a concurrent twin waits on this key
        book(conn, ev, gw_ts)
        savepoint.commit()
        return Result(ev.dev, ev.seq, "booked")
    except IntegrityError:
        savepoint.rollback()
        return _duplicate(conn, ev) or Result(ev.dev, ev.seq, "duplicate")
    except Refused as exc:
        savepoint.rollback()
        refusal = exc
    savepoint = conn.begin_nested()
    try:
        _record(conn, ev, gateway, "refused", refusal.reason, refusal.detail)
    except IntegrityError:
        savepoint.rollback()
        return _duplicate(conn, ev) or Result(ev.dev, ev.seq, "duplicate")
    keep(conn, doc, refusal.reason, refusal.detail, gateway, ev)
    savepoint.commit()
    return Result(ev.dev, ev.seq, "refused", refusal.reason, refusal.detail)


def _is_retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")  # serialization failure, deadlock (PostgreSQL)


def process_batch(db: Database, gateway: str, events: list[Any]) -> list[Result]:
    """Book a batch in one transaction; retried whole on a PostgreSQL deadlock."""
    for attempt in range(_RETRIES):
        try:
            with db.write() as conn:
                return [_one(conn, gateway, doc) for doc in events]
        except DBAPIError as exc:
            if not _is_retryable(exc) or attempt == _RETRIES - 1:
                raise
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")


def list_events(
    conn: Connection, dev: str | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    """Processed events, newest last (the last `limit` of them)."""
    p = processed_events.c
    query = select(processed_events).order_by(p.id.desc()).limit(limit)
    if dev:
        query = query.where(p.dev == dev)
    if status:
        query = query.where(p.status == status)
    rows = list(conn.execute(query))
    rows.reverse()
    return [
        {
            "id": r.id,
            "event_id": r.event_id,
            "dev": r.dev,
            "seq": r.seq,
            "gateway": r.gateway,
            "status": r.status,
            "reason": r.reason,
            "detail": r.detail,
            "mode": r.mode,
            "loc": r.loc,
            "ref": r.ref,
            "code": r.code,
            "qty": r.qty,
            "processed_at": iso(r.processed_at),
        }
        for r in rows
    ]
