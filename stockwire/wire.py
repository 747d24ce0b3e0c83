"""The wire contract between scanners, gateways and the ledger.

Owns: MQTT topic names, the scan-event schema and its validation, the ack payload, and the
batch-ingest shapes. Both `gateway` and `server` import this module; neither imports the
other. The firmware implements the same contract in MicroPython and is checked against the
same vectors (tests/vectors/wire.json).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import orjson

VERSION = 1
TOPIC_ROOT = "stockwire/v1"

MODES = (
    "receive",
    "pick",
    "return",
    "count",
    "count-close",
    "transfer-out",
    "transfer-in",
)
MAX_PAYLOAD_BYTES = 4096
MAX_CODE_CHARS = 1024
MAX_SEQ = 2**53 - 1
MAX_QTY = 1_000_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

AckStatus = Literal["stored", "booked", "refused", "retry"]
Outcome = Literal["booked", "duplicate", "refused"]


class WireError(ValueError):
    """A message that breaks the contract. `reason` is short and stable; `detail` says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# ---- topics ---------------------------------------------------------------------------------


def topic(site: str, kind: str, device: str) -> str:
    """`stockwire/v1/<site>/<kind>/<device>` for kind in scan, ack, status, config."""
    return f"{TOPIC_ROOT}/{site}/{kind}/{device}"


def parse_topic(name: str) -> tuple[str, str, str]:
    """Split a topic into (site, kind, device); raise WireError if it is not ours."""
    parts = name.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT:
        raise WireError("bad topic", name)
    _, _, site, kind, device = parts
    if kind not in ("scan", "ack", "status", "config") or not _NAME.match(device):
        raise WireError("bad topic", name)
    return site, kind, device


def valid_name(name: str) -> bool:
    """Device, site and gateway ids: 1-64 of letters, digits, '-', '_', '.'; no leading symbol."""
    return bool(_NAME.match(name))


# ---- scan events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One trigger pull that read a code, as the scanner (or dock reader) sent it."""

    dev: str
    seq: int
    code: str
    mode: str
    ts: int = 0
    boot: int = 0
    sym: str = ""
    qty: int = 1
    loc: str = ""
    ref: str = ""

    @property
    def event_id(self) -> str:
        return f"{self.dev}:{self.seq}"

    def to_json(self) -> dict[str, Any]:
        return {"v": VERSION, **asdict(self)}


def _int(doc: Mapping[str, Any], key: str, lo: int, hi: int, default: int | None = None) -> int:
    value = doc.get(key, default)
    if value is None:
        raise WireError(f"missing {key}")
    if isinstance(value, float) and abs(value) >= 2**64 and value.is_integer():
        # JSON parsers read an integer literal beyond 64 bits as a float
        raise WireError(f"bad {key}", f"{key}={value:.0f} outside {lo}..{hi}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(f"bad {key}", f"{key} must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise WireError(f"bad {key}", f"{key}={value} outside {lo}..{hi}")
    return value


def _str(doc: Mapping[str, Any], key: str, limit: int, default: str | None = None) -> str:
    value = doc.get(key, default)
    if value is None:
        raise WireError(f"missing {key}")
    if not isinstance(value, str):
        raise WireError(f"bad {key}", f"{key} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise WireError(f"bad {key}", f"{key} longer than {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise WireError(f"bad {key}", f"{key} is not valid UTF-8 text: {exc.reason}") from None
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; other control characters are kept
        raise WireError(f"bad {key}", f"{key} contains a NUL character (U+0000)")
    return value


def scan_event_from_doc(doc: Any, topic_device: str | None = None) -> ScanEvent:
    """Validate a decoded scan event; `topic_device` is the device named by the MQTT topic."""
    if not isinstance(doc, dict):
        raise WireError("bad event", "a scan event is a JSON object")
    if doc.get("v", VERSION) != VERSION:
        raise WireError("bad version", f"v={doc.get('v')!r}, this side speaks v{VERSION}")
    dev = _str(doc, "dev", 64)
    if not valid_name(dev):
        raise WireError("bad dev", f"device id {dev!r} is not a valid name")
    if topic_device is not None and dev != topic_device:
        raise WireError("device mismatch", f"event says {dev!r}, topic says {topic_device!r}")
    code = _str(doc, "code", MAX_CODE_CHARS)
    if not code:
        raise WireError("empty code")
    mode = _str(doc, "mode", 32)
    if mode not in MODES:
        raise WireError("bad mode", f"mode {mode!r} is not one of {', '.join(MODES)}")
    return ScanEvent(
        dev=dev,
        seq=_int(doc, "seq", 1, MAX_SEQ),
        code=code,
        mode=mode,
        ts=_int(doc, "ts", 0, 2**63 - 1, 0),
        boot=_int(doc, "boot", 0, 2**31 - 1, 0),
        sym=_str(doc, "sym", 8, ""),
        qty=_int(doc, "qty", 1, MAX_QTY, 1),
        loc=_str(doc, "loc", 64, ""),
        ref=_str(doc, "ref", 64, ""),
    )


def decode_scan(payload: bytes, topic_device: str | None = None) -> ScanEvent:
    """Bytes off the wire to a ScanEvent, or WireError with a specific reason."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError("too large", f"{len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError("invalid utf-8", str(exc)) from exc
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise WireError("invalid json", str(exc)) from exc
    return scan_event_from_doc(doc, topic_device)


def encode_scan(event: ScanEvent) -> bytes:
    return orjson.dumps(event.to_json())


# ---- acks -----------------------------------------------------------------------------------


def seq_ranges(seqs: Iterable[int]) -> list[list[int]]:
    """Collapse sequence numbers into sorted inclusive [first, last] ranges."""
    ranges: list[list[int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return ranges


def ack_payload(
    seqs: Iterable[int], status: AckStatus, reason: str = "", display: str = ""
) -> bytes:
    """The gateway's application ack: one message may cover every seq of one commit."""
    doc: dict[str, Any] = {"seqs": seq_ranges(seqs), "status": status}
    if reason:
        doc["reason"] = reason
    if display:
        doc["display"] = display[:32]
    return orjson.dumps(doc)


# ---- gateway -> ledger batch ingest ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """A scan as the gateway forwards it: the event plus where and when the gateway got it."""

    event: ScanEvent
    site: str
    gw_ts: int

    def to_json(self) -> dict[str, Any]:
        return {**self.event.to_json(), "site": self.site, "gw_ts": self.gw_ts}


def batch_body(gateway: str, events: Iterable[BatchEvent]) -> bytes:
    """Body of `POST /v1/scan-batches`."""
    return orjson.dumps({"gateway": gateway, "events": [e.to_json() for e in events]})


@dataclass(frozen=True, slots=True)
class EventResult:
    """The ledger's answer for one event of a batch. `dev`/`seq` echo the event as sent (they
    may be missing or malformed when the event itself was refused as `bad event`)."""

    dev: Any
    seq: Any
    status: Outcome
    reason: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"dev": self.dev, "seq": self.seq, "status": self.status}
        if self.reason:
            doc |= {"reason": self.reason, "detail": self.detail}
        return doc
