"""Starts and stops the gateway's tasks: intake, committer, forwarder, retention and the dock
reader.

Owns the lifecycle only. Shutdown (SIGTERM/SIGINT or `stop`) closes the intake's hand-off,
lets the committer drain and ack what it already holds, then stops the forwarder and the
dock reader and closes the database. A kill -9 loses nothing durable: committed rows are in
SQLite, uncommitted scans are still in the scanners' outboxes (and often in the broker's
session queue), and (dev, seq) deduplicates whatever comes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
from dataclasses import dataclass, field

from gateway.buffer import Buffer
from gateway.committer import Committer
from gateway.config import GatewayConfig
from gateway.dock_reader import DockReader
from gateway.forwarder import Forwarder
from gateway.handoff import Handoff
from gateway.intake import Intake
from gateway.model import Incoming
from gateway.retention import Retention
from gateway.status import StatusServer

log = logging.getLogger(__name__)


@dataclass
class Gateway:
    """The running parts, for tests and the status page to look at."""

    config: GatewayConfig
    buffer: Buffer
    inbox: Handoff[Incoming]
    intake: Intake
    committer: Committer
    forwarder: Forwarder | None
    dock: DockReader | None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    status: StatusServer | None = None  # the admins' status page and /metrics ([status])


class StartError(Exception):
    """The gateway could not start (buffer file, status port, ...); the message is one line."""


async def build(config: GatewayConfig) -> Gateway:
    """Every part, nothing started yet; StartError (with what was opened closed again) when a
    part cannot be made."""
    try:
        buffer = await Buffer.open(
            config.buffer.path, cap_mb=config.buffer.cap_mb, alarm_pct=config.buffer.alarm_pct
        )
    except (OSError, sqlite3.Error, ValueError, OverflowError) as exc:
        raise StartError(f"cannot open the buffer {config.buffer.path}: {exc}") from exc
    try:
        return await _assemble(config, buffer)
    except (OSError, ValueError, OverflowError) as exc:
        await buffer.close()
        raise StartError(str(exc)) from exc


async def _assemble(config: GatewayConfig, buffer: Buffer) -> Gateway:
    loop = asyncio.get_running_loop()
    inbox: Handoff[Incoming] = Handoff(loop, config.buffer.queue_max)
    intake = Intake(config, inbox)
    local = frozenset({config.dock.device}) if config.dock else frozenset()
    forwarder = None
    if config.ledger.url:
        forwarder = Forwarder(
            config.ledger,
            buffer,
            site=config.site,
            gateway_id=config.gateway_id,
            publish=intake.publish,
            local_devices=local,
        )
    dock = DockReader(config.dock, config.site, inbox) if config.dock else None
    if forwarder and dock:
        forwarder.on_local = dock.answered  # the ledger's refusal of a dock read, a beat later
    committer = Committer(
        buffer,
        inbox,
        intake.publish,
        forwarder.wake if forwarder else (lambda: None),
        commit_max=config.buffer.commit_max,
        commit_wait_s=config.buffer.commit_wait_ms / 1000,
        local_devices=local,
        on_local=dock.committed if dock else None,
    )
    gw = Gateway(config, buffer, inbox, intake, committer, forwarder, dock)
    if config.status:  # bound now: a port in use fails the start, port 0 picks a free one
        try:
            gw.status = StatusServer(config.status)
        except OSError as exc:
            if forwarder:
                await forwarder.close()
            where = f"{config.status.host}:{config.status.port}"
            raise OSError(f"cannot serve the status page on {where}: {exc.strerror}") from exc
    return gw


async def run(config: GatewayConfig, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGTERM/SIGINT when run as the main program)."""
    gw = await build(config)
    if stop is not None:
        gw.stop = stop
    await serve(gw)


async def serve(gw: Gateway) -> None:
    committing = asyncio.create_task(gw.committer.run(), name="committer")
    others: list[asyncio.Task[None]] = []
    if gw.forwarder:
        others.append(asyncio.create_task(gw.forwarder.run(), name="forwarder"))
    retention = Retention(
        gw.buffer,
        keep_sent_days=gw.config.buffer.keep_sent_days,
        every_s=gw.config.buffer.prune_every_s,
    )
    others.append(asyncio.create_task(retention.run(), name="retention"))
    if gw.dock:
        others.append(asyncio.create_task(gw.dock.run(), name="dock"))
    if gw.status:
        others.append(gw.status.start(gw))
    gw.intake.start()
    log.info("gateway %s of site %s running", gw.config.gateway_id, gw.config.site)
    stopper = asyncio.create_task(gw.stop.wait(), name="stop")
    try:
        done, _ = await asyncio.wait(
            [stopper, committing, *others], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task is not stopper and task.exception():
                log.error("task %s failed", task.get_name(), exc_info=task.exception())
    finally:
        log.info("gateway stopping")
        stopper.cancel()
        gw.inbox.close()
        if not committing.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(committing, 10)
        await asyncio.to_thread(gw.intake.stop)
        if gw.status:
            await gw.status.stop()
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if gw.forwarder:
            await gw.forwarder.close()
        await gw.buffer.close()


def main(config: GatewayConfig) -> int:
    """Run in the foreground until SIGTERM or SIGINT."""

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run(config, stop)

    try:
        asyncio.run(_main())
    except StartError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    return 0
