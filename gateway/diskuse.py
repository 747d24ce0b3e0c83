"""The buffer's disk budget: how much it uses, against its cap, and the alarm about it.

Owns the measure and its thresholds. Used bytes are the database's live pages
((page_count - freelist_count) * page_size: pages freed by pruning are reused by SQLite before
the file grows, so they are budget again) plus the WAL: a fixed reserve of cap/16 (at most
32 MiB; the buffer checkpoints well before and truncates the file back to it), or the WAL
file's real size when it is larger (a reader holding an old snapshot keeps it growing).
Counting the reserve rather than the WAL's current size keeps the measure from jumping each
time the WAL restarts, so the cap holds to within one commit. At
`alarm_pct` of the cap the alarm is up (one WARNING per crossing); at the cap the buffer is
full: new scans are refused with a `retry` ack and stay in the scanners' outboxes. The levels
are ordered (ok < alarm < full) and every change of level is logged once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

# A new scan's row beyond its payload: the row's other columns, the (dev, seq) unique index
# entry, the pending index entry and page slack. An estimate for keeping a commit within the
# cap; the measure after the commit is the truth.
ROW_OVERHEAD = 160

OK, ALARM, FULL = "ok", "alarm", "full"


@dataclass(frozen=True, slots=True)
class DiskUse:
    """One measure of the buffer: bytes used (live pages + WAL) against the cap."""

    used: int
    cap: int
    alarm_at: int
    file_bytes: int  # the database file as it stands (its free pages included)
    wal_bytes: int

    @property
    def alarm(self) -> bool:
        return self.used >= self.alarm_at

    @property
    def full(self) -> bool:
        return self.used >= self.cap

    @property
    def level(self) -> str:
        return FULL if self.full else ALARM if self.alarm else OK

    @property
    def pct(self) -> float:
        return 100.0 * self.used / self.cap


def cap_bytes(cap_mb: float) -> int:
    return max(1, int(cap_mb * 1024 * 1024))


def wal_reserve(cap: int) -> int:
    """The WAL's share of the budget, and the size it is truncated back to."""
    return min(cap // 16, 32 * 2**20)


def wal_autocheckpoint(cap: int) -> int:
    """Pages in the WAL before a commit checkpoints it: a quarter of its reserve (at most
    SQLite's default of 1000), so one commit on top still fits in the reserve."""
    return max(4, min(1000, wal_reserve(cap) // 4096 // 4))


def wal_bytes(db_path: str | Path) -> int:
    try:
        return os.stat(f"{db_path}-wal").st_size
    except FileNotFoundError:
        return 0


def measure(
    db_path: str | Path, pages: int, free: int, page_size: int, cap: int, alarm_pct: float
) -> DiskUse:
    """A DiskUse from the database's page counts (PRAGMA page_count, freelist_count,
    page_size) and the WAL file beside `db_path`."""
    wal = wal_bytes(db_path)
    return DiskUse(
        used=(pages - free) * page_size + max(wal, wal_reserve(cap)),
        cap=cap,
        alarm_at=int(cap * alarm_pct / 100),
        file_bytes=pages * page_size,
        wal_bytes=wal,
    )


PAGES_SQL = "SELECT * FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()"


class DiskAlarm:
    """Logs each change of level once: WARNING going up (alarm, full), INFO coming down. A
    level is left only when use falls `HYSTERESIS` of the cap below its threshold, so the WAL
    growing and shrinking around a threshold does not repeat the warning."""

    HYSTERESIS = 0.05

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self.level = OK

    def update(self, disk: DiskUse) -> None:
        level, previous = disk.level, self.level
        margin = int(disk.cap * self.HYSTERESIS)
        if previous == FULL and level != FULL and disk.used >= disk.cap - margin:
            level = FULL
        if previous != OK and level == OK and disk.used >= disk.alarm_at - margin:
            level = ALARM
        if level == previous:
            return
        self.level = level
        order = (OK, ALARM, FULL)
        mb = f"{disk.used / 2**20:.2f} of {disk.cap / 2**20:.2f} MB ({disk.pct:.0f}%)"
        if order.index(level) < order.index(previous):
            self._log.info("buffer disk use back to %s: %s", level, mb)
            return
        if previous == OK:  # crossed the alarm (perhaps straight to full)
            self._log.warning(
                "buffer disk alarm: %s used, alarm at %.0f%%; is the ledger reachable?",
                mb,
                100.0 * disk.alarm_at / disk.cap,
            )
        if level == FULL:
            self._log.warning(
                "buffer FULL: %s; new scans are refused `gateway full` and stay in the "
                "scanners' outboxes until the ledger takes rows and retention frees space",
                mb,
            )
