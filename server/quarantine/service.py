"""Keeping refused events, listing them, and replaying one after its cause was fixed."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select

from server.db.engine import Database
from server.db.schema import processed_events, quarantine
from server.db.sql import iso, now
from server.errors import Conflict, NotFound, Refused
from server.ingest.booking import book
from stockwire.wire import ScanEvent


def keep(
    conn: Connection,
    doc: Any,
    reason: str,
    detail: str,
    gateway: str = "",
    event: ScanEvent | None = None,
) -> int:
    raw = orjson.dumps(doc, default=str).decode() if doc is not None else ""
    values: dict[str, Any] = {"raw": raw, "reason": reason, "detail": detail, "gateway": gateway}
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
        for key in ("dev", "code", "mode", "loc", "ref"):
            if isinstance(doc.get(key), str):
                values[key] = doc[key][:1024]
        if isinstance(doc.get("seq"), int) and not isinstance(doc.get("seq"), bool):
            values["seq"] = doc["seq"]
    if isinstance(doc, dict) and isinstance(doc.get("gw_ts"), int):
        values["gateway_ts"] = doc["gw_ts"]
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


def replay(db: Database, qid: int) -> dict[str, Any]:
    """Book the kept event again; mark it replayed, or keep it with the new reason."""
    with db.write() as conn:
        row = conn.execute(select(quarantine).where(quarantine.c.id == qid)).first()
        if row is None:
            raise NotFound("unknown quarantine entry", str(qid))
        if row.status == "replayed":
            raise Conflict("already replayed", str(qid))
        if row.seq is None or not row.code or not row.mode:
            raise Conflict("not replayable", "the event was malformed; nothing to book")
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
        except Refused as exc:
            savepoint.rollback()
            conn.execute(
                entry.values(reason=exc.reason, detail=exc.detail, attempts=row.attempts + 1)
            )
            conn.execute(outcome.values(reason=exc.reason, detail=exc.detail))
        else:
            savepoint.commit()
            conn.execute(
                entry.values(status="replayed", replayed_at=now(), attempts=row.attempts + 1)
            )
            conn.execute(
                outcome.values(status="booked", reason="", detail=f"replayed from quarantine {qid}")
            )
        return _doc(conn.execute(select(quarantine).where(quarantine.c.id == qid)).one())
