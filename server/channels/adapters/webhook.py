"""The signed webhook (docs/protocol.md §4): the push's document as JSON, HMAC-SHA256 signed
over the timestamp and the raw body; the receiver keeps the highest `version` per SKU. A 429
pauses the channel for its Retry-After; any other non-2xx answer is a failure (retried)."""

from __future__ import annotations

import time

import httpx
import orjson

from server.channels import signing
from server.channels.adapters import OneAtATime, Outcome, Push, retry_after


class Webhook(OneAtATime):
    async def push(self, client: httpx.AsyncClient, push: Push) -> Outcome:
        body = orjson.dumps(push.doc)
        headers = signing.headers(push.secret, int(time.time()), body)
        try:
            response = await client.post(push.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(error=f"{type(exc).__name__}: {exc}")
        if response.status_code == 429:
            wait = retry_after(response)
            return Outcome(error=f"HTTP 429: rate limited for {wait:g} s", retry_after=wait)
        if not response.is_success:
            return Outcome(error=f"HTTP {response.status_code}: {response.text[:200]}")
        return Outcome(remote_qty=push.available)
