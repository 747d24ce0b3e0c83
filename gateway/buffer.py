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
from stockwire.wire import ScanEvent, decode_scan, encode_scan

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
        """Commit `items` in one transaction; return the acks that commit made true.

        A scan whose (dev, seq) is already held is a duplicate when its decoded event is the
        same (acked `stored` again, receptions+1); when the event differs (a replaced scanner
        restarting its seqs, or a forger) it is a `seq reused` dead letter, refused to the
        device, and the stored scan stays as it was.
        """
        acks = Acks()
        scans: list[Scan] = []
        dead: list[Rejected] = []
        statuses: list[dict[str, Any]] = []
        docks: list[DockRead] = []
        for item in items:
            if isinstance(item, Scan):
                scans.append(item)
            elif isinstance(item, Rejected):
                dead.append(item)
            elif isinstance(item, Status):
                statuses.append(_device_row(item))
            else:
                docks.append(item)
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                rows: list[tuple[str, int, str, bytes, int]] = []
                held = await self._held(scans)
                for scan in scans:
                    e, key = scan.event, (scan.event.dev, scan.event.seq)
                    first = held.setdefault(key, e)
                    if first is not e and first != e:  # every decoded field, not the raw bytes
                        dead.append(_seq_reused(scan, first))
                        continue
                    rows.append((e.dev, e.seq, scan.topic, scan.raw, scan.gw_ts))
                    acks.add_ok(e.dev, e.seq)
                for dock in docks:
                    seq = await self._next_seq(dock.event.dev)
                    event = replace(dock.event, seq=seq)
                    rows.append((event.dev, seq, dock.topic, encode_scan(event), dock.gw_ts))
                    acks.add_ok(event.dev, seq)
                if rows:
                    await self._db.executemany(_INSERT_SCAN, rows)
                if dead:
                    await self._db.executemany(
                        _INSERT_DEAD,
                        [(d.topic, d.raw, d.reason, d.detail, d.gw_ts) for d in dead],
                    )
                if statuses:
                    await self._db.executemany(_UPSERT_DEVICE, statuses)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
        for d in dead:
            if d.dev:
                acks.add_refused(d.dev, d.reason, d.seq)
        acks.dead_letters.extend(dead)
        return acks

    async def _held(self, scans: Sequence[Scan]) -> dict[tuple[str, int], ScanEvent]:
        """The stored events for the (dev, seq) of `scans` that are already in the buffer."""
        wanted: dict[str, set[int]] = {}
        for scan in scans:
            wanted.setdefault(scan.event.dev, set()).add(scan.event.seq)
        held: dict[tuple[str, int], ScanEvent] = {}
        for dev, seqs in wanted.items():
            ordered = sorted(seqs)
            for i in range(0, len(ordered), 500):
                chunk = ordered[i : i + 500]
                cursor = await self._db.execute(
                    f"SELECT seq, payload FROM scans WHERE dev = ? "
                    f"AND seq IN ({','.join('?' * len(chunk))})",
                    (dev, *chunk),
                )
                for seq, payload in await cursor.fetchall():
                    held[(dev, int(seq))] = decode_scan(bytes(payload))
                await cursor.close()
        return held

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

    async def pending(self, limit: int, exclude_dev: str | None = None) -> list[Row]:
        """The oldest `limit` rows the ledger has not answered for, in row-id order (without
        `exclude_dev`'s rows when given)."""
        sql = "SELECT id, dev, seq, payload, gw_ts FROM scans WHERE status = 'pending' "
        params: tuple[Any, ...] = (limit,)
        if exclude_dev is not None:
            sql += "AND dev != ? "
            params = (exclude_dev, limit)
        async with self._lock:
            cursor = await self._db.execute(sql + "ORDER BY id LIMIT ?", params)
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


def _seq_reused(scan: Scan, stored: ScanEvent) -> Rejected:
    e = scan.event
    differ = [
        f"{name} {getattr(stored, name)!r:.64} held, {getattr(e, name)!r:.64} in this copy"
        for name in ScanEvent.__dataclass_fields__
        if getattr(stored, name) != getattr(e, name)
    ]
    detail = f"{e.dev}:{e.seq} is already held with other content: " + "; ".join(differ)
    return Rejected(scan.topic, scan.raw, "seq reused", detail, scan.gw_ts, e.dev, e.seq)


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
