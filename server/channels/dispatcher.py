"""The push dispatcher: a background asyncio task that sends, for each dirty (channel, sku),
the newest stock level with a rising version through the channel's adapter (signed webhook,
Shopify: server/channels/adapters/), retrying with backoff. A dirty mark is cleared only if its
generation is still the one that was pushed (nothing newer arrived), so only the newest
quantity per (channel, sku) is ever sent. A rate limit (429 Retry-After, Shopify's cost bucket)
pauses the whole channel for the time the platform asks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, and_, select

from server.channels.adapters import Outcome, Push, adapter
from server.channels.outbox import Share, level, parse_locations
from server.channels.service import save_tokens
from server.db.engine import Database
from server.db.schema import channel_dirty, channel_skus, channel_tokens, channels, skus
from server.db.sql import iso, now, upsert

log = logging.getLogger(__name__)
_BACKOFF_FIRST_S = 0.2
_BACKOFF_MAX_S = 30.0


@dataclass
class _Retry:
    failures: int
    due: float


class Dispatcher:
    """Owns its task and HTTP client; `wake()` after a commit, `await stop()` on shutdown.
    Runs on the event loop that called `start()` (the app's)."""

    def __init__(
        self,
        db: Database,
        timeout_s: float = 5.0,
        poll_s: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._db = db
        self._poll_s = poll_s
        self._timeout_s = timeout_s
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._retry: dict[tuple[int, int], _Retry] = {}
        self._paused: dict[int, float] = {}  # channel id: monotonic time its rate limit ends
        # the newest OAuth tokens per channel id: a row read before a push refreshed them must
        # not push with the spent refresh token (the database has them too, for the next run)
        self._tokens: dict[int, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client pushes go through (made on first use, closed by `stop`)."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, transport=self._transport)
        return self._client

    def start(self) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="dispatcher")

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self.wake()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:  # the loop must survive a bad moment (DB restart, ...)
                log.exception("channel dispatch failed")
            timeout = self._poll_s
            dues = [r.due for r in self._retry.values()] + list(self._paused.values())
            if dues:
                timeout = max(0.0, min(timeout, min(dues) - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    async def run_once(self) -> int:
        """Push every due dirty (channel, sku) once; returns how many pushes succeeded.
        Per channel oldest first, in the adapter's batches (WooCommerce: up to 100 a call)."""
        rows = await self._db.read(_dirty_rows)
        pushed = 0
        clock = time.monotonic()
        self._paused = {c: t for c, t in self._paused.items() if t > clock}
        due: dict[int, list[Any]] = {}
        for row in rows:
            retry = self._retry.get((row.channel_id, row.sku_id))
            if retry is None or retry.due <= clock:
                due.setdefault(row.channel_id, []).append(row)
        for channel_id, chan_rows in due.items():
            size = adapter(chan_rows[0].kind).batch
            for start in range(0, len(chan_rows), size):
                if self._stopping or channel_id in self._paused:
                    break  # rate limited: its rows wait, the other channels go on
                pushed += await self._push(chan_rows[start : start + size])
        return pushed

    async def _push(self, rows: list[Any]) -> int:
        """One call of the channel's adapter for `rows` (one, or a batch), then each outcome."""
        first = rows[0]
        docs = [await self._db.write_quietly(_prepare, row) for row in rows]
        fresh = self._tokens.get(first.channel_id)
        pushes = [_push_of(row, doc, fresh) for row, doc in zip(rows, docs, strict=True)]
        a = adapter(first.kind)
        try:
            outcomes = await a.push_many(self.client, pushes)
        except Exception as exc:  # an adapter's bug must not stop the other channels
            log.exception("push to %s: the %s adapter failed", first.name, first.kind)
            outcomes = [Outcome(error=f"{type(exc).__name__}: {exc}")] * len(rows)
        done = 0
        for row, doc, outcome in zip(rows, docs, outcomes, strict=True):
            await self._db.write_quietly(_record, row, doc, outcome)
            if outcome.tokens and outcome.tokens.get("expires_at"):
                self._tokens[row.channel_id] = outcome.tokens
            done += self._outcome(row, outcome)
        return done

    def _outcome(self, row: Any, outcome: Outcome) -> int:
        key = (row.channel_id, row.sku_id)
        if outcome.retry_after is not None:
            self._paused[row.channel_id] = time.monotonic() + outcome.retry_after
            log.info("channel %s rate limited: paused %.1f s", row.name, outcome.retry_after)
            return 0
        if outcome.error:
            failures = self._retry[key].failures + 1 if key in self._retry else 1
            delay = min(_BACKOFF_MAX_S, _BACKOFF_FIRST_S * 2 ** (failures - 1))
            self._retry[key] = _Retry(failures, time.monotonic() + delay)
            log.warning(
                "push %s/%s failed (%s); retry in %.1fs", row.name, row.sku, outcome.error, delay
            )
            return 0
        self._retry.pop(key, None)
        return 1


def _push_of(row: Any, doc: dict[str, Any], fresh: dict[str, Any] | None = None) -> Push:
    remote_qty = None if row.remote_qty is None else int(row.remote_qty)
    settings = orjson.loads(row.settings or "{}")
    tokens = None
    if fresh is not None and (row.expires_at is None or fresh["expires_at"] >= row.expires_at):
        tokens = dict(fresh)
    elif row.refresh_token is not None:
        tokens = {"access_token": row.access_token, "refresh_token": row.refresh_token,
                  "expires_at": int(row.expires_at)}  # fmt: skip
    return Push(
        row.name, row.url, row.secret, settings, row.sku, doc, row.remote_id, remote_qty, tokens
    )


def _dirty_rows(conn: Connection) -> list[Any]:
    return list(
        conn.execute(
            select(
                channel_dirty,
                channels.c.name,
                channels.c.kind,
                channels.c.url,
                channels.c.secret,
                channels.c.settings,
                channels.c.safety_stock,
                channels.c.allocation_pct,
                channels.c.locations,
                skus.c.sku,
                channel_skus.c.remote_id,
                channel_skus.c.remote_qty,
                channel_skus.c.ov_safety_stock,
                channel_skus.c.ov_allocation_pct,
                channel_skus.c.ov_max_qty,
                channel_tokens.c.access_token,
                channel_tokens.c.refresh_token,
                channel_tokens.c.expires_at,
            )
            .join(channels, channels.c.id == channel_dirty.c.channel_id)
            .join(skus, skus.c.id == channel_dirty.c.sku_id)
            .outerjoin(channel_tokens, channel_tokens.c.channel_id == channel_dirty.c.channel_id)
            .outerjoin(
                channel_skus,
                and_(
                    channel_skus.c.channel_id == channel_dirty.c.channel_id,
                    channel_skus.c.sku_id == channel_dirty.c.sku_id,
                ),
            )
            .order_by(channel_dirty.c.changed_at)
        ).all()
    )


def _prepare(conn: Connection, row: Any) -> dict[str, Any]:
    key = {"channel_id": row.channel_id, "sku_id": row.sku_id}
    stock = level(conn, row.sku_id, parse_locations(row.locations), share_of(row))
    upsert(
        conn,
        channel_skus,
        {**key, "version": 1},
        list(key),
        {"version": channel_skus.c.version + 1},
    )
    version = conn.execute(
        select(channel_skus.c.version).where(
            channel_skus.c.channel_id == row.channel_id, channel_skus.c.sku_id == row.sku_id
        )
    ).scalar_one()
    return {
        "channel": row.name,
        "sku": row.sku,
        "available": stock.available,
        "on_hand": stock.on_hand,
        "location": _scope_text(parse_locations(row.locations)),
        "version": int(version),
        "changed_at": iso(row.changed_at),
    }


def share_of(row: Any) -> Share:
    """The channel's share of the SKU: the SKU's override where set, else the channel's."""

    def pick(override: Any, default: Any) -> int:
        return int(default if override is None else override)

    return Share(
        pick(row.ov_safety_stock, row.safety_stock),
        pick(row.ov_allocation_pct, row.allocation_pct),
        None if row.ov_max_qty is None else int(row.ov_max_qty),
    )


def _record(conn: Connection, row: Any, doc: dict[str, Any], outcome: Outcome) -> None:
    """The push's outcome: what it learned of the platform kept; a failure counted, or the mark
    cleared (if still this generation)."""
    chan = channels.update().where(channels.c.id == row.channel_id)
    this_sku = channel_skus.update().where(
        channel_skus.c.channel_id == row.channel_id, channel_skus.c.sku_id == row.sku_id
    )
    if outcome.tokens and outcome.tokens.get("access_token") != row.access_token:
        save_tokens(conn, row.channel_id, outcome.tokens)
    if outcome.forget_remote:
        conn.execute(this_sku.values(remote_id=None, remote_qty=None))
    elif outcome.remote_id is not None or outcome.remote_qty is not None:
        conn.execute(
            this_sku.values(
                remote_id=outcome.remote_id or row.remote_id, remote_qty=outcome.remote_qty
            )
        )
    if outcome.error:
        conn.execute(chan.values(failures=channels.c.failures + 1, last_error=outcome.error))
        return
    conn.execute(
        channel_dirty.delete().where(
            channel_dirty.c.channel_id == row.channel_id,
            channel_dirty.c.sku_id == row.sku_id,
            channel_dirty.c.gen == row.gen,
        )
    )
    stamp = now()
    pushed = {"available": doc["available"], "on_hand": doc["on_hand"], "pushed_at": stamp}
    conn.execute(this_sku.values(**pushed))
    conn.execute(chan.values(last_push_at=stamp, pushes=channels.c.pushes + 1))


def _scope_text(scope: str | list[str]) -> str:
    return scope if isinstance(scope, str) else ",".join(scope)
