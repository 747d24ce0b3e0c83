"""The demo's webhook receiver checks signatures, the replay window and rising versions."""

from __future__ import annotations

import json
import time

import httpx

from stockwire.demo.receiver import WebhookReceiver, sign


def push(receiver: WebhookReceiver, doc: dict, secret: str = "s3cret", ts: int | None = None):
    body = json.dumps(doc).encode()
    stamp = str(int(time.time()) if ts is None else ts)
    headers = {"X-Stockwire-Timestamp": stamp, "X-Stockwire-Signature": sign(secret, stamp, body)}
    return httpx.post(receiver.url("webshop"), content=body, headers=headers)


def test_a_signed_push_is_kept_and_a_forged_or_stale_one_is_not() -> None:
    receiver = WebhookReceiver({"webshop": "s3cret"}).start()
    try:
        assert push(receiver, {"sku": "A", "available": 5, "version": 2}).status_code == 200
        assert (
            push(receiver, {"sku": "A", "available": 9, "version": 3}, "wrong").status_code == 401
        )
        old = int(time.time()) - 3600
        assert push(receiver, {"sku": "A", "available": 9, "version": 4}, ts=old).status_code == 401
        assert push(receiver, {"sku": "A", "available": 1, "version": 1}).status_code == 200
        assert receiver.last_push() == {"webshop": {"A": 5}}
        log = receiver.logs["webshop"]
        assert log.rejected == ["bad signature", "timestamp outside the replay window"]
        assert log.stale == 1
    finally:
        receiver.stop()
