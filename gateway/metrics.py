"""The gateway's figures in the Prometheus text format, served as /metrics by the status
listener (gateway/status/): the same snapshot the status page shows, read when scraped.

No login: /metrics is bound to the status listener (127.0.0.1:8080 unless configured), like
a node exporter; it holds device names and counts, never payloads or passwords.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.status.figures import Figures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Snapshot(Collector):
    def __init__(self, figures: Figures) -> None:
        self._f = figures

    def collect(self) -> Iterator[Metric]:
        f = self._f
        yield GaugeMetricFamily(
            "stockwire_scanners_online", "Scanners whose retained status says online", f.online
        )
        per_scanner = {
            "battery_millivolts": ("Scanner battery voltage (mV)", "bat_mv"),
            "rssi_dbm": ("Scanner Wi-Fi signal (dBm)", "rssi"),
            "outbox": ("Scans held in the scanner's outbox", "outbox"),
        }
        online = GaugeMetricFamily(
            "stockwire_scanner_online", "1 when the scanner is online", labels=["dev"]
        )
        for s in f.scanners:
            online.add_metric([s.dev], 1 if s.online else 0)
        yield online
        for suffix, (doc, attr) in per_scanner.items():
            family = GaugeMetricFamily(f"stockwire_scanner_{suffix}", doc, labels=["dev"])
            for s in f.scanners:
                value = getattr(s, attr)
                if value is not None:
                    family.add_metric([s.dev], value)
            yield family
        yield GaugeMetricFamily(
            "stockwire_buffer_pending", "Scans in the buffer the ledger has not answered for",
            f.pending,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "stockwire_buffer_oldest_unsent_seconds",
            "Age of the oldest scan not yet answered by the ledger (0 when none)",
            (f.oldest_unsent_ms or 0) / 1000,
        )
        yield CounterMetricFamily(
            "stockwire_forwarded", "Scans the ledger answered for since the gateway started",
            f.forwarded,
        )  # fmt: skip
        yield CounterMetricFamily(
            "stockwire_ledger_errors", "Failed posts to the ledger since the gateway started",
            f.ledger_errors,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "stockwire_dead_letters_open", "Dead letters not yet replayed", f.dead_open
        )
        yield GaugeMetricFamily(
            "stockwire_buffer_disk_used_bytes", "Disk used by the buffer", f.disk["used"]
        )
        yield GaugeMetricFamily(
            "stockwire_buffer_disk_cap_bytes", "The buffer's disk cap", f.disk["cap"]
        )
        yield GaugeMetricFamily(
            "stockwire_buffer_disk_alarm",
            "1 when the buffer uses alarm_pct of its cap or more",
            1 if f.disk["alarm"] else 0,
        )
        yield GaugeMetricFamily(
            "stockwire_buffer_full",
            "1 when the buffer is at its cap: new scans are refused with `retry`",
            1 if f.disk["full"] else 0,
        )
        if f.dock is not None and f.dock["connected"] is not None:
            yield GaugeMetricFamily(
                "stockwire_dock_connected", "1 when the dock reader's device is open",
                1 if f.dock["connected"] else 0,
            )  # fmt: skip


def render(figures: Figures) -> bytes:
    """The snapshot as a Prometheus exposition."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(figures))
    return generate_latest(registry)
