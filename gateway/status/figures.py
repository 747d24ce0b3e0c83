"""The figures an admin watches, read from the running gateway: one snapshot at a time.

Owns what the status page, its server-sent events and /metrics show, and how each figure is
read: scanners from the buffer's `devices` table (with each one's last scan and last error),
buffer depth and the age of the oldest unsent scan, the forwarder's counters and rate, the
open dead letters, the dock reader, the buffer's disk use (with its alarm and full flags), and
scans per minute over the shift (the last `SHIFT_HOURS`). Every query is bounded by an index
so that reading figures every second does not hold the buffer's lock for long.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.model import escape_payload, escape_text, now_ms
from stockwire.wire import topic

if TYPE_CHECKING:
    from gateway.app import Gateway

SHIFT_HOURS = 8
RATE_WINDOW_S = 60.0
DEAD_LETTERS_SHOWN = 50
_LAST_ERROR_LOOKBACK = 1000  # a scanner's newest rows searched for its last refusal
_CHART_EVERY_S = 10.0


@dataclass
class Scanner:
    dev: str
    online: bool
    fw: str | None
    bat_mv: int | None
    rssi: int | None
    outbox: int | None
    last_seen: int
    last_scan: int | None
    last_error: str


@dataclass
class DeadLetter:
    id: int
    gw_ts: int
    topic: str
    reason: str
    detail: str
    shown: str  # the payload escaped for display (the edited one when there is an edit)
    editable: str  # the same as text for the FIX form
    edited: bool


@dataclass
class Figures:
    at_ms: int
    scanners: list[Scanner]
    pending: int
    oldest_unsent_ms: int | None  # age of the oldest pending scan
    forwarding: bool  # a ledger is configured
    forwarded: int  # rows answered by the ledger since the gateway started
    forward_per_min: float
    ledger_errors: int
    last_ledger_error: str
    dead_open: int
    dead_letters: list[DeadLetter]
    dock: dict[str, Any] | None
    disk: dict[str, Any]  # used, cap (bytes), alarm, full, level (ok | alarm | full)
    per_minute: list[tuple[int, int]] = field(default_factory=list)  # (minute start ms, scans)

    @property
    def online(self) -> int:
        return sum(1 for s in self.scanners if s.online)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "online": self.online}


class FigureSource:
    """Snapshots of one gateway's figures, at most one fresh read per `every_s`."""

    def __init__(self, gw: Gateway, every_s: float = 1.0) -> None:
        self._gw = gw
        self._every = every_s
        self._latest: Figures | None = None
        self._latest_at = 0.0
        self._lock = asyncio.Lock()
        self._forwarded: deque[tuple[float, int]] = deque()
        self._chart: list[tuple[int, int]] = []
        self._chart_at = -_CHART_EVERY_S

    async def snapshot(self, fresh: bool = False) -> Figures:
        async with self._lock:
            now = time.monotonic()
            if fresh or self._latest is None or now - self._latest_at >= self._every:
                self._latest = await self._read(now)
                self._latest_at = now
            return self._latest

    async def _read(self, mono: float) -> Figures:
        gw, buffer, now = self._gw, self._gw.buffer, now_ms()
        scanners = [await self._scanner(row) for row in await buffer.query(
            "SELECT dev, online, fw, bat_mv, rssi, outbox, last_seen FROM devices ORDER BY dev"
        )]  # fmt: skip
        pending = (await buffer.query("SELECT count(*) FROM scans WHERE status = 'pending'"))[0]
        oldest = await buffer.query(
            "SELECT gw_ts FROM scans WHERE status = 'pending' ORDER BY id LIMIT 1"
        )
        dead_open = await buffer.query(
            "SELECT count(*) FROM dead_letters WHERE resolved_ts IS NULL"
        )
        fw = gw.forwarder
        forwarded = fw.forwarded if fw else 0
        if mono - self._chart_at >= _CHART_EVERY_S:
            self._chart = await self._per_minute(now)
            self._chart_at = mono
        return Figures(
            at_ms=now,
            scanners=scanners,
            pending=int(pending[0]),
            oldest_unsent_ms=max(0, now - int(oldest[0][0])) if oldest else None,
            forwarding=fw is not None,
            forwarded=forwarded,
            forward_per_min=self._rate(mono, forwarded),
            ledger_errors=fw.errors if fw else 0,
            last_ledger_error=escape_text(fw.last_error) if fw else "",
            dead_open=int(dead_open[0][0]),
            dead_letters=await self._dead_letters(),
            dock=dock_state(gw),
            disk=await disk_state(gw),
            per_minute=self._chart,
        )

    async def _scanner(self, row: tuple[Any, ...]) -> Scanner:
        dev = str(row[0])
        buffer = self._gw.buffer
        last = await buffer.query(
            "SELECT gw_ts FROM scans WHERE dev = ? ORDER BY seq DESC LIMIT 1", (dev,)
        )
        refused = await buffer.query(
            "SELECT reason, answered_ts FROM (SELECT seq, status, reason, answered_ts FROM scans "
            "WHERE dev = ? ORDER BY seq DESC LIMIT ?) WHERE status = 'refused' LIMIT 1",
            (dev, _LAST_ERROR_LOOKBACK),
        )
        dead = await buffer.query(
            "SELECT reason, gw_ts FROM dead_letters WHERE topic = ? ORDER BY id DESC LIMIT 1",
            (topic(self._gw.config.site, "scan", dev),),
        )
        errors = [(int(r[1] or 0), str(r[0])) for r in [*refused, *dead]]
        return Scanner(
            dev=dev,
            online=bool(row[1]),
            fw=row[2],
            bat_mv=row[3],
            rssi=row[4],
            outbox=row[5],
            last_seen=int(row[6]),
            last_scan=int(last[0][0]) if last else None,
            last_error=escape_text(max(errors)[1]) if errors else "",
        )

    async def _dead_letters(self) -> list[DeadLetter]:
        rows = await self._gw.buffer.query(
            "SELECT id, gw_ts, topic, reason, detail, coalesce(fixed, payload), fixed IS NOT NULL "
            "FROM dead_letters WHERE resolved_ts IS NULL ORDER BY id DESC LIMIT ?",
            (DEAD_LETTERS_SHOWN,),
        )
        return [
            DeadLetter(
                id=int(r[0]),
                gw_ts=int(r[1]),
                topic=escape_text(str(r[2])),
                reason=escape_text(str(r[3])),
                detail=escape_text(str(r[4])),
                shown=escape_payload(bytes(r[5]), 400),
                editable=bytes(r[5]).decode("utf-8", "replace"),
                edited=bool(r[6]),
            )
            for r in rows
        ]

    async def _per_minute(self, now: int) -> list[tuple[int, int]]:
        """Scans received per minute over the shift, every minute present (zeros too)."""
        since = (now - SHIFT_HOURS * 3_600_000) // 60_000 * 60_000
        first = await self._first_id_since(since)
        rows = await self._gw.buffer.query(
            "SELECT gw_ts / 60000, count(*) FROM scans WHERE id >= ? AND gw_ts >= ? GROUP BY 1",
            (first, since),
        )
        counts = {int(m) * 60_000: int(n) for m, n in rows}
        return [(m, counts.get(m, 0)) for m in range(since, now + 1, 60_000)]

    async def _first_id_since(self, since: int) -> int:
        """About the first row received at `since` or later (gw_ts rises with the row id,
        give or take a commit): a binary search over row ids, each step one index lookup."""
        query = self._gw.buffer.query
        bounds = await query("SELECT min(id), max(id) FROM scans")
        lo, hi = bounds[0]
        if lo is None:
            return 0
        lo, hi = int(lo), int(hi)
        while lo < hi:
            mid = (lo + hi) // 2
            row = await query("SELECT gw_ts FROM scans WHERE id >= ? ORDER BY id LIMIT 1", (mid,))
            if int(row[0][0]) < since - 600_000:  # ten minutes of slack for late commits
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _rate(self, mono: float, forwarded: int) -> float:
        """Rows forwarded per minute over about the last `RATE_WINDOW_S`."""
        samples = self._forwarded
        samples.append((mono, forwarded))
        while len(samples) > 2 and samples[1][0] <= mono - RATE_WINDOW_S:
            samples.popleft()
        (t0, n0), (t1, n1) = samples[0], samples[-1]
        return (n1 - n0) * 60.0 / (t1 - t0) if t1 > t0 else 0.0


def dock_state(gw: Gateway) -> dict[str, Any] | None:
    """The dock reader's device, label state and counters, with what its `reader_status()`
    reports (connected, problem, ...); `connected` is None when the reader does not say."""
    dock = gw.dock
    if dock is None or gw.config.dock is None:
        return None
    reported = getattr(dock, "reader_status", None)
    state = dock.state
    out: dict[str, Any] = {
        "device": gw.config.dock.device,
        "source": gw.config.dock.evdev_path or f"replay {gw.config.dock.replay}",
        "items": dock.items, "errors": dock.errors, "connected": None, "problem": "",
        **(reported() if callable(reported) else {}),
        "mode": state.mode, "loc": state.loc, "ref": state.ref,
    }  # fmt: skip
    if out["connected"] is not None:
        out["connected"] = bool(out["connected"])
    out["problem"] = escape_text(str(out.get("problem") or ""))
    return out


async def disk_state(gw: Gateway) -> dict[str, Any]:
    """The buffer's disk use as its latest measure (taken at every commit and prune; measured
    now only before the first): bytes used and the cap, the alarm and full flags and the
    level word (`ok`, `alarm`, `full`). Reading it takes no lock from the writer."""
    disk = gw.buffer.last_disk or await gw.buffer.disk()
    return {"used": disk.used, "cap": disk.cap, "alarm": disk.alarm, "full": disk.full,
            "level": disk.level}  # fmt: skip
