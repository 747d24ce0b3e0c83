"""The group-commit loop: take what the intake and the dock queued, commit it, then ack.

Owns the order "commit, then ack": acks for a batch are published only after `Buffer.store`
returned, one `ack/<dev>` message per device per commit covering every seq made durable
(new and duplicate alike), plus one refusal per device and reason for dead letters. Each
dead letter is logged as a WARNING, at most `DeadLetterLog.limit` lines per window, so a flood
of bad messages cannot flood the log (the rest are counted in one summary line). Local devices
(the dock reader) get no MQTT acks: `on_local` is handed each commit's acks instead, after the
commit, so the dock beeps "taken" only for what is stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from gateway.buffer import Buffer
from gateway.handoff import Handoff
from gateway.model import Acks, Incoming, Rejected, display_for, escape_payload, escape_text
from stockwire.wire import ack_payload

log = logging.getLogger(__name__)

# publish(device, payload): queue an ack to ack/<device>; must not block.
Publish = Callable[[str, bytes], None]


def publish_acks(
    acks: Acks, status: str, publish: Publish, local: frozenset[str] = frozenset()
) -> int:
    """Send `acks` (ok seqs with `status`, refusals and retries with their reason); return
    messages sent."""
    sent = 0
    for dev, seqs in acks.ok.items():
        if dev in local:
            continue
        publish(dev, ack_payload(seqs, status))  # type: ignore[arg-type]
        sent += 1
    for (dev, reason), seqs in acks.refused.items():
        if dev in local:
            log.info("%s refused %s: %s", dev, seqs, reason)
            continue
        publish(dev, ack_payload(seqs, "refused", reason, display_for(reason)))
        sent += 1
    for (dev, reason), seqs in acks.retry.items():
        if dev in local:  # not reached: the dock's reads are stored even at the cap
            log.warning("%s not stored (%s): %s", dev, reason, seqs)
            continue
        publish(dev, ack_payload(seqs, "retry", reason, display_for(reason)))
        sent += 1
    return sent


class DeadLetterLog:
    """One WARNING per dead letter, at most `limit` per `window_s`; the rest are counted and
    summed up in one line when the window ends."""

    def __init__(
        self,
        logger: logging.Logger,
        limit: int = 20,
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._start = clock()
        self._lines = 0
        self.suppressed = 0
        self._timer: asyncio.TimerHandle | None = None

    def warn(self, dead: Rejected) -> None:
        now = self._clock()
        if now - self._start >= self.window_s:
            self.flush()
        if self._lines < self.limit:
            self._lines += 1
            self._log.warning(
                "dead letter from %s on %s: %s (%s); payload %s",
                dead.dev or "?",
                escape_text(dead.topic),
                escape_text(dead.reason),
                escape_text(dead.detail[:200]),
                escape_payload(dead.raw, 80),
            )
            return
        self.suppressed += 1
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop to wait on: the next warn() after the window sums up
            delay = max(0.0, self._start + self.window_s - now)
            self._timer = loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """End the window: log how many were not logged in it, start a new one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.suppressed:
            self._log.warning(
                "%d more dead letters in the last %.0f s were not logged "
                "(see `stockwire gateway dead-letters`)",
                self.suppressed,
                self.window_s,
            )
        self._start, self._lines, self.suppressed = self._clock(), 0, 0


class Committer:
    def __init__(
        self,
        buffer: Buffer,
        inbox: Handoff[Incoming],
        publish: Publish,
        on_commit: Callable[[], None],
        *,
        commit_max: int,
        commit_wait_s: float,
        local_devices: frozenset[str] = frozenset(),
        on_local: Callable[[Acks], None] | None = None,
    ) -> None:
        self._buffer = buffer
        self._inbox = inbox
        self._publish = publish
        self._on_commit = on_commit
        self._max = commit_max
        self._wait = commit_wait_s
        self._local = local_devices
        self._on_local = on_local  # the dock's feedback: told what each commit made true
        self.commits = 0
        self.rows = 0
        self.dead_log = DeadLetterLog(log)

    async def run(self) -> None:
        """Commit until the inbox is closed and drained."""
        while True:
            items = await self._inbox.take(self._max, self._wait)
            if not items:
                self.dead_log.flush()
                return
            await self.commit(items)

    async def commit(self, items: list[Incoming]) -> None:
        while True:
            try:
                acks = await self._buffer.store(items)
                break
            except asyncio.CancelledError:
                raise
            except Exception:  # a full disk or a locked file: keep the items, nothing acked
                log.exception("commit of %d items failed; retrying", len(items))
                await asyncio.sleep(1.0)
        self._inbox.release(len(items))
        self.commits += 1
        self.rows += len(items)
        for dead in acks.dead_letters:
            self.dead_log.warn(dead)
        try:
            publish_acks(acks, "stored", self._publish, self._local)
        except Exception:  # the scanner re-sends and gets the ack for its duplicate
            log.exception("publishing acks failed")
        if self._on_local is not None:
            try:
                self._on_local(acks)
            except Exception:
                log.exception("dock feedback failed")
        self._on_commit()
