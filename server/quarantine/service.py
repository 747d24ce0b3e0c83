"""Keeping refused events, listing them, and replaying one after its cause was fixed."""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from sqlalchemy import Connection, select

from server.db.schema import processed_events, quarantine
from server.db.sql import iso, now
from server.errors import Conflict, NotFound, Refused, describe, is_outage
from server.ingest.booking import book
from server.validation import storable
from stockwire.wire import ScanEvent

log = logging.getLogger(__name__)


def _raw(doc: Any) -> str:
    """The event as received, as JSON text; never fails (huge ints, lone surrogates, NaN)."""
    if doc is None:
        return ""
    try:
        return orjson.dumps(doc, default=str).decode()
    except TypeError:  # orjson.JSONEncodeError: an int beyond 64 bits, a lone surrogate, ...
        return json.dumps(doc, default=str)  # ASCII: surrogates and NUL escaped


def _text(value: Any, limit: int) -> str | None:
    """A string field of a malformed event as far as a column can hold it, else None."""
    return storable(value, limit) if isinstance(value, str) else None


def _bigint(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        return None
    return value


def keep(
    conn: Connection,
    doc: Any,
    reason: str,
    detail: str,
    gateway: str = "",
    event: ScanEvent | None = None,
) -> int:
    detail = _text(detail, 4000) or ""
    values: dict[str, Any] = {"raw": _raw(doc), "reason": reason, "detail": detail}
    values["gateway"] = gateway
    if event is not None:
        values |= {
            "event_id": event.event_id,
            "dev": event.dev,
            "seq": event.seq,
            "code": event.code,
            "sym": event.sym,
            "mode": event.mode,
            "loc": event.loc,
            "ref": event.ref,
            "qty": event.qty,
            "device_ts": event.ts or None,
        }
    elif isinstance(doc, dict):
        for key, limit in (("dev", 64), ("code", 1024), ("mode", 32), ("loc", 64), ("ref", 64)):
            if (text := _text(doc.get(key), limit)) is not None:
                values[key] = text
        if (seq := _bigint(doc.get("seq"))) is not None:
            values["seq"] = seq
    if isinstance(doc, dict) and (gw_ts := _bigint(doc.get("gw_ts"))) is not None:
        values["gateway_ts"] = gw_ts
    insert = quarantine.insert().values(created_at=now(), status="open", attempts=1, **values)
    return int(conn.execute(insert.returning(quarantine.c.id)).scalar_one())


def _doc(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "event_id": r.event_id,
        "dev": r.dev,
        "seq": r.seq,
        "gateway": r.gateway,
        "code": r.code,
        "mode": r.mode,
        "loc": r.loc,
        "ref": r.ref,
        "qty": r.qty,
        "reason": r.reason,
        "detail": r.detail,
        "status": r.status,
        "attempts": r.attempts,
        "created_at": iso(r.created_at),
        "replayed_at": iso(r.replayed_at),
    }


def list_all(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    query = select(quarantine).order_by(quarantine.c.id)
    if status:
        query = query.where(quarantine.c.status == status)
    return [_doc(r) for r in conn.execute(query)]


def replay(conn: Connection, qid: int) -> dict[str, Any]:
    """Book the kept event again; mark it replayed, or keep it with the new reason."""
    row = conn.execute(select(quarantine).where(quarantine.c.id == qid)).first()
    if row is None:
        raise NotFound("unknown quarantine entry", str(qid))
    if row.status == "replayed":
        raise Conflict("already replayed", str(qid))
    if row.event_id is None or row.seq is None or not row.code or not row.mode:
        raise Conflict(
            "not replayable",
            f"the event was malformed ({row.reason}: {row.detail}); nothing to book, its raw "
            "form is kept for reference: the scanner or gateway that sent it needs fixing",
        )
    booked = conn.execute(
        select(processed_events.c.status).where(processed_events.c.event_id == row.event_id)
    ).scalar()
    if booked == "booked":
        raise Conflict("already booked", f"event {row.event_id} was booked since it was kept")
    event = ScanEvent(
        dev=row.dev,
        seq=row.seq,
        code=row.code,
        mode=row.mode,
        ts=row.device_ts or 0,
        sym=row.sym,
        qty=row.qty,
        loc=row.loc,
        ref=row.ref,
    )
    entry = quarantine.update().where(quarantine.c.id == qid)
    outcome = processed_events.update().where(processed_events.c.event_id == row.event_id)
    savepoint = conn.begin_nested()
    try:
        book(conn, event, row.gateway_ts)
    except Exception as exc:
        savepoint.rollback()
        if not isinstance(exc, Refused):
            if is_outage(exc):
                raise
            log.error("cannot book quarantine entry %s", qid, exc_info=exc)
            exc = Refused("cannot book", storable(describe(exc), 2000))
        conn.execute(entry.values(reason=exc.reason, detail=exc.detail, attempts=row.attempts + 1))
        conn.execute(outcome.values(reason=exc.reason, detail=exc.detail))
    else:
        savepoint.commit()
        conn.execute(entry.values(status="replayed", replayed_at=now(), attempts=row.attempts + 1))
        conn.execute(
            outcome.values(status="booked", reason="", detail=f"replayed from quarantine {qid}")
        )
    return _doc(conn.execute(select(quarantine).where(quarantine.c.id == qid)).one())


def map_code(conn: Connection, qid: int, sku: str, multiplier: int = 1) -> dict[str, Any]:
    """Teach the catalog the GTIN of entry `qid`'s code (as `multiplier` units of `sku`), then
    replay that entry and every other open entry refused for the same unknown GTIN."""
    from server.barcodes.parse import BarcodeRefused, decode
    from server.catalog.service import add_gtin

    row = conn.execute(select(quarantine).where(quarantine.c.id == qid)).first()
    if row is None:
        raise NotFound("unknown quarantine entry", str(qid))
    if row.status == "replayed":
        raise Conflict("already replayed", str(qid))
    try:
        gtin = decode(row.code).gtin14
    except BarcodeRefused as exc:
        raise Refused("not mappable", f"entry {qid}'s code is not a GTIN: {exc.detail}") from exc
    if gtin is None:
        raise Refused("not mappable", f"entry {qid}'s code names no trade item (an SSCC?)")
    add_gtin(conn, sku, gtin, multiplier)
    same = [
        r.id
        for r in conn.execute(
            select(quarantine.c.id, quarantine.c.code)
            .where(quarantine.c.status == "open", quarantine.c.reason == "unknown barcode")
            .order_by(quarantine.c.id)
        )
        if r.id != qid and _gtin_of(r.code) == gtin
    ]
    replayed = [replay(conn, entry) for entry in [qid, *same]]
    return {"gtin14": gtin, "sku": sku, "multiplier": multiplier, "replayed": replayed}


def _gtin_of(code: str) -> str | None:
    from server.barcodes.parse import BarcodeRefused, decode

    try:
        return decode(code).gtin14
    except BarcodeRefused:
        return None
