"""Retention: rows the ledger answered, and dead letters replayed or dismissed, more than
`keep_sent_days` ago leave the buffer; under disk pressure (the alarm at `alarm_pct` of the
cap) answered rows of any age do.

Owns the schedule only: every `prune_every_s` it asks the buffer to prune in small batches
(one short transaction each, so commits of new scans get the write lock between them) until
nothing old is left, then truncates the WAL those deletions grew. What may be pruned, and how
the (dev, seq) dedup survives it, is the buffer's business (gateway/buffer.py).
"""

from __future__ import annotations

import asyncio
import logging

from gateway.buffer import Buffer
from gateway.model import now_ms

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


class Retention:
    def __init__(
        self,
        buffer: Buffer,
        *,
        keep_sent_days: float,
        every_s: float,
        batch: int = 500,
        pressure_every_s: float = 1.0,
    ) -> None:
        self._buffer = buffer
        self._keep_ms = int(keep_sent_days * DAY_MS)
        self._every = every_s
        self._batch = batch
        self._pressure_every = min(pressure_every_s, every_s)
        self.early_pruned = 0  # answered rows pruned before keep_sent_days for disk space

    async def run(self) -> None:
        while True:
            try:
                await self.prune_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a full disk or a locked file: try again next round
                log.exception("pruning the buffer failed")
            await self._pause()

    async def _pause(self) -> None:
        """Wait `every_s`, but look again every `pressure_every_s` while the disk alarm is up:
        once the ledger drains the buffer, its answered rows must make room at once."""
        waited = 0.0
        while waited < self._every:
            await asyncio.sleep(self._pressure_every)
            waited += self._pressure_every
            disk = self._buffer.last_disk
            if disk is not None and disk.alarm:
                return

    async def prune_once(self) -> int:
        """Prune everything answered before now - keep_sent_days; then, while the disk alarm
        is up, answered rows of any age, oldest answer first (pending rows and those only the
        gateway holds are never pruned). Return the rows deleted."""
        total = await self._prune(now_ms() - self._keep_ms, until_alarm_clears=False)
        total += await self._buffer.prune_dead_letters(now_ms() - self._keep_ms)
        if (await self._buffer.disk()).alarm:
            early = await self._prune(now_ms(), until_alarm_clears=True)
            if early:
                self.early_pruned += early
                log.warning(
                    "disk pressure: pruned %d answered rows younger than keep_sent_days", early
                )
            total += early
        if total:
            await self._buffer.shrink_wal()
            log.info("pruned %d answered rows from the buffer", total)
        return total

    async def _prune(self, before: int, *, until_alarm_clears: bool) -> int:
        total = 0
        while True:
            n = await self._buffer.prune(before, self._batch)
            total += n
            if n < self._batch:
                return total
            if until_alarm_clears:
                await self._buffer.shrink_wal()
                if not (await self._buffer.disk()).alarm:
                    return total
            await asyncio.sleep(0)  # let a waiting commit in between batches
