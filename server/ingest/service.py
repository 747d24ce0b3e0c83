"""Processing one gateway batch: one write transaction, one savepoint per event, idempotent on
the event id `dev:seq` through the processed-events table (which keeps each outcome)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.db.engine import Database
from server.db.schema import processed_events
from server.db.sql import iso, now
from server.errors import Refused, describe, is_outage
from server.ingest.booking import book
from server.quarantine.service import keep
from server.validation import storable
from stockwire.wire import MAX_CODE_CHARS, ScanEvent, WireError, scan_event_from_doc
from stockwire.wire import EventResult as Result

_RETRIES = 5
MAX_TS = 2**63 - 1  # gw_ts, like the event's ts: ms since the epoch in a BIGINT
CANNOT_BOOK = "cannot book"
log = logging.getLogger(__name__)


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
            detail=storable(detail, 4000),
            mode=ev.mode,
            loc=ev.loc,
            ref=ev.ref,
            code=ev.code,
            qty=ev.qty,
            processed_at=now(),
        )
    )


def _echo(doc: Any) -> tuple[str | None, int | None]:
    """dev and seq of a malformed event for its result, when they can be echoed as sent."""
    if not isinstance(doc, dict):
        return None, None
    dev, seq = doc.get("dev"), doc.get("seq")
    if not isinstance(dev, str) or len(dev) > MAX_CODE_CHARS or not _utf8(dev):
        dev = None
    if isinstance(seq, bool) or not isinstance(seq, int) or not -(2**63) <= seq < 2**63:
        seq = None
    return dev, seq


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _gw_ts(doc: dict[str, Any]) -> int | None:
    """The gateway's receive time: absent/null is allowed, anything else must be in range."""
    value = doc.get("gw_ts")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError("bad gw_ts", f"gw_ts must be an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_TS:
        raise WireError("bad gw_ts", f"gw_ts={value} outside 0..{MAX_TS}")
    return value


def _unexpected(exc: Exception, ev: ScanEvent) -> Refused:
    """Any other failure while booking one event refuses that event (it stays in the
    quarantine for replay); only an outage or a deadlock fails the whole batch."""
    if is_outage(exc) or (isinstance(exc, DBAPIError) and _is_retryable(exc)):
        raise exc
    log.error("cannot book %s", ev.event_id, exc_info=exc)
    return Refused(CANNOT_BOOK, storable(describe(exc), 2000))


def _one(conn: Connection, gateway: str, doc: Any) -> Result:
    try:
        ev = scan_event_from_doc(doc)
        gw_ts = _gw_ts(doc)
    except WireError as exc:
        detail = storable(str(exc), 2000)
        keep(conn, doc, "bad event", detail, gateway)
        dev, seq = _echo(doc)
        return Result(dev, seq, "refused", "bad event", detail)
    if (dup := _duplicate(conn, ev)) is not None:
        return dup
    savepoint = conn.begin_nested()
    try:
        _record(conn, ev, gateway, "booked")  # first: a concurrent twin waits on this key
        book(conn, ev, gw_ts)
        savepoint.commit()
        return Result(ev.dev, ev.seq, "booked")
    except IntegrityError as exc:
        savepoint.rollback()
        if (dup := _duplicate(conn, ev)) is not None:
            return dup
        refusal = _unexpected(exc, ev)  # not our key: a constraint the booking broke
    except Refused as exc:
        savepoint.rollback()
        refusal = exc
    except Exception as exc:
        savepoint.rollback()
        refusal = _unexpected(exc, ev)
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


def _batch(conn: Connection, gateway: str, events: list[Any]) -> list[Result]:
    return [_one(conn, gateway, doc) for doc in events]


async def process_batch(db: Database, gateway: str, events: list[Any]) -> list[Result]:
    """Book a batch in one transaction; retried whole on a PostgreSQL deadlock."""
    for attempt in range(_RETRIES):
        try:
            return await db.write(_batch, gateway, events)
        except DBAPIError as exc:
            if not _is_retryable(exc) or attempt == _RETRIES - 1:
                raise
            await asyncio.sleep(0.01 * 2**attempt)
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
