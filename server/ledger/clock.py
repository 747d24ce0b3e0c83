"""When a movement happened: the device's clock when it is plausible, else the gateway's,
else the booking time. An implausible device clock is flagged on the movement, not trusted.

A device time is implausible when it differs from the gateway's receive time by more than
`MAX_SKEW_MS` (the gateway's clock is NTP-synced), or, with no gateway time, lies in the future
of the booking time by more than that, or before `EARLIEST_MS` (a scanner that lost its RTC
boots in 2000 or 1970). Scans buffered offline arrive late but with an honest device time: a
gateway time far after the device time is normal for them, so only a device time AFTER the
gateway's, or before it by more than `MAX_OFFLINE_MS`, is flagged.
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
    flag: str  # "" when the device time was trusted or absent


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def event_time(device_ms: int | None, gateway_ms: int | None, booked_at: datetime) -> EventTime:
    booked_ms = int(booked_at.timestamp() * 1000)
    fallback_ms = gateway_ms if gateway_ms is not None else booked_ms
    if device_ms is None or device_ms <= 0:
        return EventTime(_dt(min(fallback_ms, booked_ms)), "")
    if device_ms < EARLIEST_MS:
        return EventTime(_dt(min(fallback_ms, booked_ms)), "device clock before 2020")
    reference = gateway_ms if gateway_ms is not None else booked_ms
    ahead = device_ms - reference
    if ahead > MAX_SKEW_MS:
        return EventTime(_dt(min(fallback_ms, booked_ms)), f"device clock {ahead // 1000}s ahead")
    if -ahead > MAX_OFFLINE_MS:
        return EventTime(_dt(min(fallback_ms, booked_ms)), f"device clock {-ahead // 1000}s behind")
    return EventTime(_dt(min(device_ms, booked_ms)), "")
