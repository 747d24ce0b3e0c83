"""When a movement happened: the device's clock when it is plausible, else the gateway's when
that is plausible, else the booking time. An implausible clock is flagged on the movement, not
trusted.

The booking time is the ledger's own clock, the one reference it trusts. A gateway time is
implausible when it lies before `EARLIEST_MS` (a Pi without RTC or NTP boots in 1970), ahead of
the booking time by more than `MAX_SKEW_MS`, or behind it by more than `MAX_OFFLINE_MS` (a
gateway's buffer is not kept longer than that). A device time is checked against the gateway's
time when that is plausible, else against the booking time: it is implausible before
`EARLIEST_MS` (a scanner that lost its RTC boots in 2000 or 1970) or ahead of the reference by
more than `MAX_SKEW_MS`. Scans buffered offline arrive late but with an honest device time: a
reference far after the device time is normal for them, so only a device time more than
`MAX_OFFLINE_MS` behind it is flagged. A device time of 0 means "the scanner has no clock";
a gateway time of 0 is a gateway clock at 1970 and flagged like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MAX_SKEW_MS = 5 * 60 * 1000
MAX_OFFLINE_MS = 7 * 24 * 3600 * 1000  # a scanner's outbox is not kept longer than a week
EARLIEST_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class EventTime:
    at: datetime
    flag: str  # "" when every clock given was trusted


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _doubt(name: str, ms: int, reference_ms: int) -> str:
    """Why `ms` is not a believable time for a scan booked against `reference_ms`, or ""."""
    if ms < EARLIEST_MS:
        return f"{name} clock before 2020"
    ahead = ms - reference_ms
    if ahead > MAX_SKEW_MS:
        return f"{name} clock {ahead // 1000}s ahead"
    if -ahead > MAX_OFFLINE_MS:
        return f"{name} clock {-ahead // 1000}s behind"
    return ""


def event_time(device_ms: int | None, gateway_ms: int | None, booked_at: datetime) -> EventTime:
    booked_ms = int(booked_at.timestamp() * 1000)
    flags: list[str] = []
    reference_ms = booked_ms
    if gateway_ms is not None:
        doubt = _doubt("gateway", gateway_ms, booked_ms)
        if doubt:
            flags.append(doubt)
        else:
            reference_ms = gateway_ms
    at_ms = reference_ms
    if device_ms is not None and device_ms > 0:
        doubt = _doubt("device", device_ms, reference_ms)
        if doubt:
            flags.append(doubt)
        else:
            at_ms = device_ms
    return EventTime(_dt(min(at_ms, booked_ms)), "; ".join(flags))
