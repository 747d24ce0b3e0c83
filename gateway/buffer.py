"""The gateway's durable buffer: one SQLite file (WAL, synchronous=FULL) behind aiosqlite.

Owns the schema and every write to it. One connection, one writer: callers take turns through
an asyncio lock, so a transaction is never interleaved with another caller's statements.
`store()` is the group commit: many incoming items, one transaction, one fsync; it tells the
caller which acks that commit made true. Rows change status only by row id.

Disk: the buffer keeps within `cap_mb` (gateway/diskuse.py has the measure). A commit at the
cap stores no new scan: each gets a `retry` ack (`gateway full`) and stays in its scanner's
outbox; duplicates are still acked `stored`, device status and dock reads are still stored
(bounded, and the dock has no outbox), dead letters are no longer kept once the alarm is up.
Retention (`prune()`) deletes rows the ledger answered long ago and remembers their ids as
(dev, first, last, boot) ranges in `pruned`, so a pruned scan sent again is acked `stored`
without being stored or forwarded again, and a reused seq is still refused `seq reused`.
Freed pages are reused by SQLite before the file grows (no VACUUM rewrites on the gateway's
flash), so the file stays near its high-water mark, which the cap bounds.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from gateway.diskuse import (
    PAGES_SQL,
    ROW_OVERHEAD,
    DiskAlarm,
    DiskUse,
    cap_bytes,
    measure,
    wal_autocheckpoint,
    wal_reserve,
)
from gateway.model import (
    FULL_REASON,
    Acks,
    Answer,
    DockRead,
    Incoming,
    Rejected,
    Scan,
    Status,
    now_ms,
)
from stockwire.wire import ScanEvent, decode_scan, encode_scan, seq_ranges

log = logging.getLogger(__name__)

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
CREATE INDEX IF NOT EXISTS scans_answered ON scans (answered_ts) WHERE answered_ts IS NOT NULL;
CREATE TABLE IF NOT EXISTS pruned (           -- ids of answered scans retention deleted
    dev   TEXT    NOT NULL,
    first INTEGER NOT NULL,
    last  INTEGER NOT NULL,
    boot  INTEGER NOT NULL,                   -- their `boot`: a redelivery carries the same
    PRIMARY KEY (dev, first)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
    id      INTEGER PRIMARY KEY,
    topic   TEXT    NOT NULL,
    payload BLOB    NOT NULL,
    reason  TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT '',
    gw_ts   INTEGER NOT NULL,
    fixed   BLOB,                             -- the payload as an admin edited it (status page)
    resolved_ts INTEGER,                      -- when a replay stored it (or it was dismissed)
    dismissed_by TEXT                         -- the admin who closed it without a replay
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
CREATE TABLE IF NOT EXISTS admin_sessions (   -- the status page's logins
    token_hash TEXT PRIMARY KEY,              -- SHA-256 of the cookie's token, never the token
    name       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
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
# columns added after a buffer file may have been made: (table, column, declaration)
_ADDED_COLUMNS = (
    ("dead_letters", "fixed", "BLOB"),
    ("dead_letters", "resolved_ts", "INTEGER"),
    ("dead_letters", "dismissed_by", "TEXT"),
)
_MARK = "UPDATE scans SET status = ?, reason = ?, detail = ?, answered_ts = ? WHERE id = ?"
# answered long enough ago; `ledger error` refusals exist only here (the ledger never took
# them), so they stay for an admin; the ledger keeps its own refusals in its quarantine
_PRUNABLE = """
SELECT id, dev, seq, payload FROM scans
WHERE answered_ts < ? AND (status = 'booked' OR (status = 'refused' AND reason != 'ledger error'))
ORDER BY answered_ts LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class Row:
    """A buffered scan waiting for the ledger."""

    id: int
    dev: str
    seq: int
    payload: bytes
    gw_ts: int


class Buffer:
    def __init__(
        self,
        db: aiosqlite.Connection,
        path: str | Path = "",
        cap_mb: float = 512.0,
        alarm_pct: float = 80.0,
    ) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self.path = Path(path)
        self._cap = cap_bytes(cap_mb)
        self._alarm_pct = alarm_pct
        self._alarm = DiskAlarm(log)
        self.last_disk: DiskUse | None = None  # the latest measure (see `disk()`)
        self.pruned_rows = 0  # rows retention deleted, this run

    @classmethod
    async def open(
        cls, path: str | Path, *, cap_mb: float = 512.0, alarm_pct: float = 80.0
    ) -> Buffer:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA busy_timeout=5000")
        # the WAL stays within its reserve of the budget (gateway/diskuse.py)
        cap = cap_bytes(cap_mb)
        await db.execute(f"PRAGMA journal_size_limit={wal_reserve(cap)}")
        await db.execute(f"PRAGMA wal_autocheckpoint={wal_autocheckpoint(cap)}")
        await db.executescript(SCHEMA)
        for table, column, decl in _ADDED_COLUMNS:
            cursor = await db.execute(f"PRAGMA table_info({table})")
            if column not in {str(r[1]) for r in await cursor.fetchall()}:
                await db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            await cursor.close()
        buffer = cls(db, path, cap_mb, alarm_pct)
        await buffer.disk()
        return buffer

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
            disk = await self._measure()
            budget = disk.cap - disk.used  # for new scans; at 0 they get `retry`
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                rows: list[tuple[str, int, str, bytes, int]] = []
                held = await self._held(scans)
                pruned = await self._pruned(scans, held)
                for scan in scans:
                    e, key = scan.event, (scan.event.dev, scan.event.seq)
                    first = held.get(key)
                    if first is None:
                        boot = pruned.get(key)
                        if boot is not None:  # answered and pruned long ago
                            if boot == e.boot:  # a redelivery: acked, not stored again
                                acks.add_ok(e.dev, e.seq)
                            else:
                                dead.append(_seq_reused_pruned(scan, boot))
                            continue
                        if budget <= 0:
                            acks.add_retry(e.dev, FULL_REASON, e.seq)
                            continue
                        budget -= len(scan.raw) + ROW_OVERHEAD
                        held[key] = first = e
                    elif first != e:  # every decoded field, not the raw bytes
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
                if dead and disk.alarm:  # the rest of the budget is for scans
                    await self._count("dead letters not kept", len(dead))
                elif dead:
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

    async def _pruned(
        self, scans: Sequence[Scan], held: dict[tuple[str, int], ScanEvent]
    ) -> dict[tuple[str, int], int]:
        """For the scans not held: those whose (dev, seq) was pruned, with the range's boot."""
        wanted: dict[str, list[int]] = {}
        for scan in scans:
            e = scan.event
            if (e.dev, e.seq) not in held:
                wanted.setdefault(e.dev, []).append(e.seq)
        out: dict[tuple[str, int], int] = {}
        for dev, seqs in wanted.items():
            cursor = await self._db.execute(
                "SELECT first, last, boot FROM pruned WHERE dev = ? AND first <= ? "
                "AND last >= ? ORDER BY first",
                (dev, max(seqs), min(seqs)),
            )
            ranges = [(int(a), int(b), int(c)) for a, b, c in await cursor.fetchall()]
            await cursor.close()
            if not ranges:
                continue
            firsts = [r[0] for r in ranges]
            for seq in seqs:
                i = bisect.bisect_right(firsts, seq) - 1
                if i >= 0 and seq <= ranges[i][1]:
                    out[(dev, seq)] = ranges[i][2]
        return out

    async def _count(self, name: str, n: int) -> None:
        await self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, n),
        )

    async def _measure(self) -> DiskUse:
        cursor = await self._db.execute(PAGES_SQL)
        row = await cursor.fetchone()
        await cursor.close()
        assert row is not None
        disk = measure(self.path, int(row[0]), int(row[1]), int(row[2]), self._cap, self._alarm_pct)
        self.last_disk = disk
        self._alarm.update(disk)
        return disk

    async def disk(self) -> DiskUse:
        """Measure the disk use now (used bytes, cap, alarm, full); logs a change of level."""
        async with self._lock:
            return await self._measure()

    async def prune(self, answered_before_ms: int, limit: int = 500) -> int:
        """Delete up to `limit` rows the ledger answered before `answered_before_ms` (see
        `_PRUNABLE`), remembering their ids in `pruned`, in one transaction; return how many."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self._db.execute(_PRUNABLE, (answered_before_ms, limit))
                rows = list(await cursor.fetchall())
                await cursor.close()
                runs: dict[tuple[str, int], list[int]] = {}
                for _, dev, seq, payload in rows:
                    boot = decode_scan(bytes(payload)).boot
                    runs.setdefault((dev, boot), []).append(int(seq))
                for (dev, boot), seqs in runs.items():
                    for first, last in seq_ranges(seqs):
                        await self._add_pruned(dev, boot, first, last)
                await self._db.executemany(
                    "DELETE FROM scans WHERE id = ?", [(r[0],) for r in rows]
                )
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            if rows:
                self.pruned_rows += len(rows)
                await self._measure()
        return len(rows)

    async def shrink_wal(self, wait_ms: int = 100) -> bool:
        """Checkpoint and truncate the WAL (after pruning: its frames are budget too); waits
        at most `wait_ms` for readers, so commits are never held up long. True when done."""
        async with self._lock:
            await self._db.execute(f"PRAGMA busy_timeout={wait_ms}")
            try:
                cursor = await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                row = await cursor.fetchone()
                await cursor.close()
            finally:
                await self._db.execute("PRAGMA busy_timeout=5000")
            await self._measure()
        return row is not None and int(row[0]) == 0

    async def _add_pruned(self, dev: str, boot: int, first: int, last: int) -> None:
        """Add [first, last] to `dev`'s pruned ranges, joined to a neighbour of the same boot."""
        cursor = await self._db.execute(
            "SELECT first, last, boot FROM pruned WHERE dev = ? AND first < ? "
            "ORDER BY first DESC LIMIT 1",
            (dev, first),
        )
        left = await cursor.fetchone()
        await cursor.close()
        if left is not None and int(left[1]) == first - 1 and int(left[2]) == boot:
            first = int(left[0])
            await self._db.execute("DELETE FROM pruned WHERE dev = ? AND first = ?", (dev, first))
        cursor = await self._db.execute(
            "SELECT last, boot FROM pruned WHERE dev = ? AND first = ?", (dev, last + 1)
        )
        right = await cursor.fetchone()
        await cursor.close()
        if right is not None and int(right[1]) == boot:
            await self._db.execute(
                "DELETE FROM pruned WHERE dev = ? AND first = ?", (dev, last + 1)
            )
            last = int(right[0])
        await self._db.execute(
            "INSERT INTO pruned (dev, first, last, boot) VALUES (?, ?, ?, ?)",
            (dev, first, last, boot),
        )

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

    # -- the status page: dead letters an admin fixes and replays, admin sessions -----------

    async def fix_dead_letter(self, dead_id: int, payload: bytes) -> bool:
        """Keep an admin's edit of an open dead letter's payload (the raw one stays)."""
        sql = "UPDATE dead_letters SET fixed = ? WHERE id = ? AND resolved_ts IS NULL"
        async with self._lock:
            cursor = await self._db.execute(sql, (payload, dead_id))
            changed = cursor.rowcount
            await cursor.close()
        return changed == 1

    async def dismiss_dead_letter(self, dead_id: int, admin: str) -> bool:
        """Close an open dead letter that can never be replayed (garbage, a reused seq): it is
        kept, with who dismissed it, until retention prunes it."""
        sql = (
            "UPDATE dead_letters SET resolved_ts = ?, dismissed_by = ? "
            "WHERE id = ? AND resolved_ts IS NULL"
        )
        async with self._lock:
            cursor = await self._db.execute(sql, (now_ms(), admin, dead_id))
            changed = cursor.rowcount
            await cursor.close()
        return changed == 1

    async def prune_dead_letters(self, resolved_before_ms: int) -> int:
        """Delete dead letters replayed or dismissed before `resolved_before_ms`."""
        sql = "DELETE FROM dead_letters WHERE resolved_ts < ?"
        async with self._lock:
            cursor = await self._db.execute(sql, (resolved_before_ms,))
            deleted = cursor.rowcount
            await cursor.close()
        return deleted

    async def replay_dead_letter(self, dead_id: int, scan: Scan) -> str:
        """Store `scan` (a dead letter's payload, validated again) and mark the dead letter
        resolved, in one transaction. Returns "" on success, else why nothing changed."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self._db.execute(
                    "SELECT resolved_ts FROM dead_letters WHERE id = ?", (dead_id,)
                )
                found = await cursor.fetchone()
                await cursor.close()
                e = scan.event
                held = (await self._held([scan])).get((e.dev, e.seq))
                if found is None:
                    why = "no such dead letter"
                elif found[0] is not None:
                    why = "already resolved (replayed or dismissed)"
                elif held is not None and held != e:
                    why = f"seq reused: {e.dev}:{e.seq} is already held with other content"
                else:
                    why = ""
                    if held is None:
                        await self._db.execute(
                            _INSERT_SCAN, (e.dev, e.seq, scan.topic, scan.raw, scan.gw_ts)
                        )
                    await self._db.execute(
                        "UPDATE dead_letters SET fixed = ?, resolved_ts = ? WHERE id = ?",
                        (scan.raw, scan.gw_ts, dead_id),
                    )
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
        return why

    async def add_session(
        self, token_hash: str, name: str, csrf: str, expires_ms: int, now: int
    ) -> None:
        """Record a login (and forget the sessions that have expired)."""
        async with self._lock:
            await self._db.execute("DELETE FROM admin_sessions WHERE expires_ms <= ?", (now,))
            await self._db.execute(
                "INSERT INTO admin_sessions (token_hash, name, csrf, expires_ms) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, name, csrf, expires_ms),
            )

    async def session(self, token_hash: str, now: int) -> tuple[str, str] | None:
        """The (admin name, CSRF token) of a session that has not expired."""
        rows = await self.query(
            "SELECT name, csrf FROM admin_sessions WHERE token_hash = ? AND expires_ms > ?",
            (token_hash, now),
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    async def drop_session(self, token_hash: str, now: int) -> None:
        """Log out (and forget every expired session)."""
        async with self._lock:
            await self._db.execute(
                "DELETE FROM admin_sessions WHERE token_hash = ? OR expires_ms <= ?",
                (token_hash, now),
            )

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


def _seq_reused_pruned(scan: Scan, boot: int) -> Rejected:
    e = scan.event
    detail = (
        f"{e.dev}:{e.seq} was answered by the ledger and pruned; it had boot {boot}, "
        f"this copy has boot {e.boot}"
    )
    return Rejected(scan.topic, scan.raw, "seq reused", detail, scan.gw_ts, e.dev, e.seq)


# what a scanner's status figure may be; a value outside is not believed (kept as unknown)
_STATUS_RANGES = {
    "bat_mv": (0, 10_000),
    "rssi": (-150, 0),
    "outbox": (0, 2**31),
    "uptime": (0, 2**53),
    "boot": (0, 2**53),
    "seq": (0, 2**53),
}


def _device_row(status: Status) -> dict[str, Any]:
    doc = status.doc

    def num(key: str) -> int | None:
        value = doc.get(key)
        low, high = _STATUS_RANGES[key]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        return None

    fw = doc.get("fw")
    return {
        "dev": status.dev,
        "online": 1 if doc.get("online") is True else 0,
        "fw": fw[:32] if isinstance(fw, str) else None,
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
