"""Read-only access to the buffer for status pages and the CLI, beside the running writer.

Owns the readers' connection: SQLite opened read-only (`mode=ro`), so a reader can never take
the write lock, with a busy timeout for the moments WAL readers must wait (opening while the
writer recovers or restarts the WAL index). In WAL mode a reader reads a snapshot and never
blocks the writer's commits nor is blocked by them: no `database is locked` for a status page
while thousands of scans are committed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from gateway.diskuse import PAGES_SQL, DiskUse, cap_bytes, measure


class BufferReader:
    def __init__(self, path: str | Path, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        self._db = sqlite3.connect(
            uri, uri=True, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )

    def __enter__(self) -> BufferReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One read, in its own snapshot."""
        return [tuple(r) for r in self._db.execute(sql, params).fetchall()]

    def counts(self) -> dict[str, int]:
        """Scans by status, and the dead letters, from one snapshot."""
        out = {"pending": 0, "sent": 0, "booked": 0, "refused": 0}
        with self._snapshot():
            rows = self.query("SELECT status, count(*) FROM scans GROUP BY status")
            out.update({str(s): int(n) for s, n in rows})
            out["dead_letters"] = int(self.query("SELECT count(*) FROM dead_letters")[0][0])
        return out

    def disk(self, cap_mb: float, alarm_pct: float) -> DiskUse:
        """The buffer's disk use as the writer measures it (see gateway/diskuse.py)."""
        pages, free, page_size = self.query(PAGES_SQL)[0]
        return measure(self.path, pages, free, page_size, cap_bytes(cap_mb), alarm_pct)

    def _snapshot(self) -> Any:
        return _Snapshot(self._db)


class _Snapshot:
    """A read transaction: every statement inside sees the same commit."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, *exc: object) -> None:
        self._db.execute("COMMIT")
