"""Channel adapters: one per platform, each telling it one SKU's available quantity.

Owns the interface the dispatcher (server/channels/dispatcher.py) pushes through: a `Push`
(what to tell, and what the ledger remembers of the platform's side) in, an `Outcome` out.
An adapter never raises for the platform's answers: a refusal is `error`, a rate limit is
`retry_after` (the dispatcher pauses the whole channel that long), and what it learned of the
platform (its id for the SKU, the quantity it now holds) comes back to be kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx


@dataclass(frozen=True, slots=True)
class Push:
    channel: str
    url: str  # webhook: where to POST; shopify: the shop's base URL
    secret: str  # webhook: the signing secret; shopify: the Admin API access token
    settings: dict[str, Any]
    sku: str
    doc: dict[str, Any]  # channel, sku, available, on_hand, location, version, changed_at
    remote_id: str | None = None
    remote_qty: int | None = None
    tokens: dict[str, Any] | None = None  # an OAuth platform's (shopee): access, refresh, expiry

    @property
    def available(self) -> int:
        return int(self.doc["available"])

    @property
    def version(self) -> int:
        return int(self.doc["version"])


@dataclass(frozen=True, slots=True)
class Outcome:
    error: str = ""  # "" when the platform took it
    retry_after: float | None = None  # a rate limit: wait this long before the next call
    remote_id: str | None = None
    remote_qty: int | None = None
    forget_remote: bool = False  # the platform no longer knows remote_id: look it up again
    tokens: dict[str, Any] | None = None  # the tokens to keep (refreshed), if the adapter has any


class Stop(Exception):
    """Inside an adapter: the push ends here with this outcome (a refusal, an unknown SKU,
    a rate limit, a network error)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


class Adapter(Protocol):
    batch: int  # how many pushes one call of push_many takes (1: one at a time)

    async def push(self, client: httpx.AsyncClient, push: Push) -> Outcome: ...

    async def push_many(self, client: httpx.AsyncClient, pushes: list[Push]) -> list[Outcome]:
        """One outcome per push, in order."""
        ...


class OneAtATime:
    """An adapter whose platform takes one SKU a call: push_many is push, one after another."""

    batch = 1

    async def push(self, client: httpx.AsyncClient, push: Push) -> Outcome:
        raise NotImplementedError

    async def push_many(self, client: httpx.AsyncClient, pushes: list[Push]) -> list[Outcome]:
        return [await self.push(client, p) for p in pushes]


_ADAPTERS: dict[str, Adapter] = {}


def adapter(kind: str) -> Adapter:
    """The adapter for a channel kind (one per process; adapters keep no state)."""
    if not _ADAPTERS:
        from server.channels.adapters import shopee, shopify, webhook, woocommerce

        _ADAPTERS.update(
            webhook=webhook.Webhook(),
            shopify=shopify.Shopify(),
            woocommerce=woocommerce.WooCommerce(),
            shopee=shopee.Shopee(),
        )
    return _ADAPTERS[kind]


MAX_RETRY_AFTER_S = 300.0  # a platform asking for longer is asked again after this


def retry_after(response: httpx.Response, default: float = 1.0) -> float:
    """Seconds from a 429's Retry-After header (seconds; a date is taken as `default`), at
    most MAX_RETRY_AFTER_S."""
    try:
        wait = float(response.headers.get("Retry-After", default))
    except ValueError:
        wait = default
    return min(MAX_RETRY_AFTER_S, wait) if wait >= 0 else default
