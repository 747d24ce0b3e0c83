"""The gateway's durable buffer: one SQLite file (WAL, synchronous=FULL) behind aiosqlite.

Owns the schema and every write to it. One connection, one writer: callers take turns through
an asyncio lock, so a transaction is never interleaved with another caller's statements.
`store()` is the group commit: many incoming items, one transaction, one fsync; it tells the
caller which acks that commit made true. Rows change status only by row id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from gateway.model import Acks, Answer, DockRead, Incoming, Rejected, Scan, Status
from stockwire.wire import encode_scan

SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    id         INTEGER PRIMARY KEY,
    dev        TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    topic      TEXT    NOT NULL,
    payload    BLOB    NOT NULL,              -- the scan event exactly as received
    gw_ts      INTEGER NOT NULL,              -- gateway receive time, ms since the epoch
    status     TEXT    NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'booked', 'refused')),
    reason     TEXT    NOT NULL DEFAULT '',   -- the ledger's refusal reason
    detail     TEXT    NOT NULL DEFAULT '',
    receptions INTEGER NOT NULL DEFAULT 1,    -- +1 each time the same (dev, seq) arrives again
    answered_ts INTEGER,                      -- when the ledger answered for it
    UNIQUE (dev, seq)
);
CREATE INDEX IF NOT EXISTS scans_pending ON scans (id) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS dead_letters (
    id      INTEGER PRIMARY KEY,
    topic   TEXT    NOT NULL,
    payload BLOB    NOT NULL,
    reason  TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT '',
    gw_ts   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    dev       TEXT PRIMARY KEY,
    online    INTEGER NOT NULL DEFAULT 0,
    fw        TEXT,
    bat_mv    INTEGER,
    rssi      INTEGER,
    outbox    INTEGER,
    uptime    INTEGER,
    boot      INTEGER,
    seq       INTEGER,
    last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

_INSERT_SCAN = """
INSERT INTO scans (dev, seq, topic, payload, gw_ts) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (dev, seq) DO UPDATE SET receptions = receptions + 1
"""
_INSERT_DEAD = (
    "INSERT INTO dead_letters (topic, payload, reason, detail, gw_ts) VALUES (?, ?, ?, ?, ?)"
)
_UPSERT_DEVICE = """
INSERT INTO devices (dev, online, fw, bat_mv, rssi, outbox, uptime, boot, seq, last_seen)
VALUES (:dev, :online, :fw, :bat_mv, :rssi, :outbox, :uptime, :boot, :seq, :last_seen)
ON CONFLICT (dev) DO UPDATE SET
    online = excluded.online, last_seen = excluded.last_seen,
    fw = coalesce(excluded.fw, fw), bat_mv = coalesce(excluded.bat_mv, bat_mv),
    rssi = coalesce(excluded.rssi, rssi), outbox = coalesce(excluded.outbox, outbox),
    uptime = coalesce(excluded.uptime, uptime), boot = coalesce(excluded.boot, boot),
    seq = coalesce(excluded.seq, seq)
"""
_MARK = "UPDATE scans SET status = ?, reason = ?, detail = ?, answered_ts = ? WHERE id = ?"


@dataclass(frozen=True, slots=True)
class Row:
    """A buffered scan waiting for the ledger."""

    id: int
    dev: str
    seq: int
    payload: bytes
    gw_ts: int


class Buffer:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Buffer:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.executescript(SCHEMA)
        return cls(db)

    async def close(self) -> None:
        async with self._lock:
            await self._db.close()

    async def store(self, items: Sequence[Incoming]) -> Acks:
        """Commit `items` in one transaction; return the acks that commit made true."""
        acks = Acks()
        scans: list[tuple[str, int, str, bytes, int]] = []
        dead: list[tuple[str, bytes, str, str, int]] = []
        statuses: list[dict[str, Any]] = []
        docks: list[DockRead] = []
        for item in items:
            if isinstance(item, Scan):
                e = item.event
                scans.append((e.dev, e.seq, item.topic, item.raw, item.gw_ts))
                acks.add_ok(e.dev, e.seq)
            elif isinstance(item, Rejected):
                dead.append((item.topic, item.raw, item.reason, item.detail, item.gw_ts))
                if item.dev:
                    acks.add_refused(item.dev, item.reason, item.seq)
            elif isinstance(item, Status):
                statuses.append(_device_row(item))
            else:
                docks.append(item)
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                for dock in docks:
                    seq = await self._next_seq(dock.event.dev)
                    event = replace(dock.event, seq=seq)
                    scans.append((event.dev, seq, dock.topic, encode_scan(event), dock.gw_ts))
                    acks.add_ok(event.dev, seq)
                if scans:
                    await self._db.executemany(_INSERT_SCAN, scans)
                if dead:
                    await self._db.executemany(_INSERT_DEAD, dead)
                if statuses:
                    await self._db.executemany(_UPSERT_DEVICE, statuses)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
        return acks

    async def _next_seq(self, name: str) -> int:
        cursor = await self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (f"seq:{name}",),
        )
        row = await cursor.fetchone()
        await cursor.close()
        assert row is not None
        return int(row[0])

    async def pending(self, limit: int) -> list[Row]:
        """The oldest `limit` rows the ledger has not answered for, in row-id order."""
        async with self._lock:
            cursor = await self._db.execute(
                "SELECT id, dev, seq, payload, gw_ts FROM scans WHERE status = 'pending' "
                "ORDER BY id LIMIT ?",
                (limit,),
            )
            rows = await cursor.fetchall()
            await cursor.close()
        return [Row(int(r[0]), r[1], int(r[2]), bytes(r[3]), int(r[4])) for r in rows]

    async def mark(self, answers: Sequence[Answer], answered_ts: int) -> None:
        """Record the ledger's answers, by row id, in one transaction."""
        params = [(a.status, a.reason, a.detail, answered_ts, a.row_id) for a in answers]
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                await self._db.executemany(_MARK, params)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read for status pages and the CLI."""
        async with self._lock:
            cursor = await self._db.execute(sql, params)
            rows = await cursor.fetchall()
            await cursor.close()
        return [tuple(r) for r in rows]

    async def counts(self) -> dict[str, int]:
        rows = await self.query("SELECT status, count(*) FROM scans GROUP BY status")
        out = {"pending": 0, "sent": 0, "booked": 0, "refused": 0}
        out.update({str(s): int(n) for s, n in rows})
        dead = await self.query("SELECT count(*) FROM dead_letters")
        out["dead_letters"] = int(dead[0][0])
        return out


def _device_row(status: Status) -> dict[str, Any]:
    doc = status.doc

    def num(key: str) -> int | None:
        value = doc.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    fw = doc.get("fw")
    return {
        "dev": status.dev,
        "online": 1 if doc.get("online") is True else 0,
        "fw": fw if isinstance(fw, str) else None,
        "bat_mv": num("bat_mv"),
        "rssi": num("rssi"),
        "outbox": num("outbox"),
        "uptime": num("uptime"),
        "boot": num("boot"),
        "seq": num("seq"),
        "last_seen": status.gw_ts,
    }


def dumps_row(row: tuple[Any, ...]) -> bytes:
    return orjson.dumps([r.decode("utf-8", "replace") if isinstance(r, bytes) else r for r in row])
