"""The group-commit loop: take what the intake and the dock queued, commit it, then ack.

Owns the order "commit, then ack": acks for a batch are published only after `Buffer.store`
returned, one `ack/<dev>` message per device per commit covering every seq made durable
(new and duplicate alike), plus one refusal per device and reason for dead letters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gateway.buffer import Buffer
from gateway.handoff import Handoff
from gateway.model import Acks, Incoming, display_for
from stockwire.wire import ack_payload

log = logging.getLogger(__name__)

# publish(device, payload): queue an ack to ack/<device>; must not block.
Publish = Callable[[str, bytes], None]


def publish_acks(
    acks: Acks, status: str, publish: Publish, local: frozenset[str] = frozenset()
) -> int:
    """Send `acks` (ok seqs with `status`, refusals with their reason); return messages sent."""
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
    return sent


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
    ) -> None:
        self._buffer = buffer
        self._inbox = inbox
        self._publish = publish
        self._on_commit = on_commit
        self._max = commit_max
        self._wait = commit_wait_s
        self._local = local_devices
        self.commits = 0
        self.rows = 0

    async def run(self) -> None:
        """Commit until the inbox is closed and drained."""
        while True:
            items = await self._inbox.take(self._max, self._wait)
            if not items:
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
        try:
            publish_acks(acks, "stored", self._publish, self._local)
        except Exception:  # the scanner re-sends and gets the ack for its duplicate
            log.exception("publishing acks failed")
        self._on_commit()
