"""The webhook signature of docs/protocol.md §4 (pure): v1=HMAC-SHA256(secret, "ts." + body)."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Stockwire-Timestamp": str(timestamp),
        "X-Stockwire-Signature": signature(secret, timestamp, body),
    }


def verify(
    secret: str, timestamp: str, body: bytes, given: str, now: float, skew: int = 300
) -> bool:
    """What a receiver checks: the signature, and a timestamp within `skew` seconds."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > skew:
        return False
    return hmac.compare_digest(signature(secret, ts, body), given)
