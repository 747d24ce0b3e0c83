"""The gateway's domain as plain data and functions: what arrives, what one commit holds,
which acks follow from it, and how long to wait before retrying.

No I/O: intake, dock reader, buffer and forwarder all speak these types.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from stockwire.wire import ScanEvent, WireError, decode_scan


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Scan:
    """A valid scan event from a scanner (raw bytes kept as received) or from the dock."""

    event: ScanEvent
    topic: str
    raw: bytes
    gw_ts: int


@dataclass(frozen=True, slots=True)
class DockRead:
    """An item read at the dock; the buffer gives it the dock's next seq when it commits."""

    event: ScanEvent  # seq is ignored
    topic: str
    gw_ts: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A payload that failed validation: kept raw in the dead letters, refused to `dev`."""

    topic: str
    raw: bytes
    reason: str
    detail: str
    gw_ts: int
    dev: str = ""  # who to send the refusal to ("" when nobody can be told)
    seq: int | None = None  # the seq the payload claimed, when it had one


@dataclass(frozen=True, slots=True)
class Status:
    """A scanner's retained status message (or its last will)."""

    dev: str
    doc: dict[str, Any]
    gw_ts: int


Incoming = Scan | DockRead | Rejected | Status


def classify_scan(topic: str, device: str, payload: bytes, gw_ts: int) -> Scan | Rejected:
    """Validate one MQTT scan payload published on `scan/<device>`."""
    try:
        return Scan(decode_scan(payload, device), topic, payload, gw_ts)
    except WireError as exc:
        return Rejected(
            topic, payload, exc.reason, exc.detail, gw_ts, device, _claimed_seq(payload)
        )


def _claimed_seq(payload: bytes) -> int | None:
    try:
        doc = orjson.loads(payload)
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return None
    seq = doc.get("seq") if isinstance(doc, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq > 0 else None


def parse_status(device: str, payload: bytes, gw_ts: int) -> Status | None:
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return Status(device, doc, gw_ts) if isinstance(doc, dict) else None


# The reason of a `retry` ack: the buffer is at its disk cap (gateway/diskuse.py).
FULL_REASON = "gateway full"


@dataclass
class Acks:
    """Acks to send: good seqs per device (stored or booked), refusals per device and reason,
    and seqs not taken for now (`retry`: the scanner keeps them and sends them again)."""

    ok: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    refused: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    retry: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    dead_letters: list[Rejected] = field(default_factory=list)  # kept by this commit (to log)

    def add_ok(self, dev: str, seq: int) -> None:
        self.ok[dev].append(seq)

    def add_refused(self, dev: str, reason: str, seq: int | None) -> None:
        seqs = self.refused[(dev, reason)]
        if seq is not None:
            seqs.append(seq)

    def add_retry(self, dev: str, reason: str, seq: int) -> None:
        self.retry[(dev, reason)].append(seq)


# Short texts for the scanner's display, by refusal reason (protocol §2 and §3).
_DISPLAY = {
    "device mismatch": "NOT YOUR DEVICE",
    "invalid json": "BAD MESSAGE",
    "invalid utf-8": "BAD MESSAGE",
    "too large": "CODE TOO LONG",
    "empty code": "EMPTY READ",
    "bad mode": "BAD MODE",
    "unknown barcode": "UNKNOWN CODE",
    "check digit": "BAD CHECK DIGIT",
    "not a valid GTIN": "BAD GTIN",
    "not a trade item": "NOT AN ITEM",
    "unknown location": "UNKNOWN LOCATION",
    "unknown reference": "UNKNOWN REFERENCE",
    "insufficient stock": "NOT IN STOCK",
    "no open transfer": "NO TRANSFER",
    "bad event": "BAD EVENT",
    "seq reused": "SEQ REUSED - SEE ADMIN",
    "ledger error": "LEDGER ERROR - SEE ADMIN",
    FULL_REASON: "GATEWAY FULL - KEPT, RETRYING",
}


def display_for(reason: str) -> str:
    return _DISPLAY.get(reason, reason.upper())[:32]


def escape_text(text: str) -> str:
    """`text` safe for a terminal or a log line: control, format (bidi) and other unprintable
    characters and backslashes as Python escapes; bytes that were not UTF-8 as `\\xNN`."""
    out = []
    for ch in text:
        if ch.isprintable() and ch != "\\":
            out.append(ch)
        elif "\udc80" <= ch <= "\udcff":  # an undecodable byte (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(repr(ch)[1:-1])
    return "".join(out)


def escape_payload(raw: bytes, limit: int = 120) -> str:
    """A payload for humans: escaped (see `escape_text`), cut after `limit` characters with
    an ellipsis and the full size."""
    text = raw.decode("utf-8", "surrogateescape")
    if len(text) <= limit:
        return escape_text(text)
    return f"{escape_text(text[:limit])}... ({len(raw)} bytes)"


@dataclass(frozen=True, slots=True)
class Answer:
    """The ledger's answer for one buffered row, as the buffer records it."""

    row_id: int
    dev: str
    seq: int
    status: str  # "booked" or "refused"
    reason: str = ""
    detail: str = ""


def outcome_acks(answers: Iterable[Answer]) -> Acks:
    """Informational acks after the ledger answered: booked per device, refused per reason."""
    acks = Acks()
    for a in answers:
        if a.status == "booked":
            acks.ok[a.dev].append(a.seq)
        else:
            acks.add_refused(a.dev, a.reason, a.seq)
    return acks


@dataclass
class Backoff:
    """Exponential backoff with full jitter; `reset()` after a success."""

    low: float
    high: float
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next(self) -> float:
        cap = min(self.high, self.low * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 32)
        return self.rng.uniform(self.low, max(self.low, cap))

    def reset(self) -> None:
        self.attempt = 0


def retry_after(value: str | None, default: float, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return default
    return max(0.0, when - (time.time() if now is None else now))
