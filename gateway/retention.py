"""Retention: rows the ledger answered more than `keep_sent_days` ago leave the buffer.

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
        self, buffer: Buffer, *, keep_sent_days: float, every_s: float, batch: int = 500
    ) -> None:
        self._buffer = buffer
        self._keep_ms = int(keep_sent_days * DAY_MS)
        self._every = every_s
        self._batch = batch

    async def run(self) -> None:
        while True:
            try:
                await self.prune_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a full disk or a locked file: try again next round
                log.exception("pruning the buffer failed")
            await asyncio.sleep(self._every)

    async def prune_once(self) -> int:
        """Prune everything answered before now - keep_sent_days; return the rows deleted."""
        before = now_ms() - self._keep_ms
        total = 0
        while True:
            n = await self._buffer.prune(before, self._batch)
            total += n
            if n < self._batch:
                break
            await asyncio.sleep(0)  # let a waiting commit in between batches
        if total:
            await self._buffer.shrink_wal()
            log.info("pruned %d answered rows from the buffer", total)
        return total
