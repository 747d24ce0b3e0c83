"""The shift's outcome: gathered from the ledger's API and the channel receiver, and printed.

Owns the summary's shape (the keys of the scenario's `expect`): on_hand, channel_last_push,
refused, reorder_alerts, sell_through_pct, count_variance; and its rendering as text tables.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stockwire.demo.receiver import WebhookReceiver


def gateway_figures(status_url: str) -> dict[str, int]:
    """The gateway's own view, from its status listener's Prometheus `/metrics`: scanners
    online, scans still buffered, scans the ledger answered for, dead letters open (counts:
    whole numbers, though Prometheus carries them as floats)."""
    response = httpx.get(f"{status_url}/metrics", timeout=5)
    response.raise_for_status()
    wanted = {
        "stockwire_scanners_online": "scanners_online",
        "stockwire_buffer_pending": "buffer_pending",
        "stockwire_forwarded_total": "forwarded",
        "stockwire_dead_letters_open": "dead_letters_open",
    }
    found: dict[str, int] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name in wanted and not sample.labels:
                found[wanted[sample.name]] = round(sample.value)
    return dict(sorted(found.items()))


def gather(
    api: httpx.Client,
    receiver: WebhookReceiver,
    count_refs: list[str],
    status_url: str | None = None,
) -> dict[str, Any]:
    on_hand: dict[str, dict[str, int]] = defaultdict(dict)
    for row in _get(api, "/v1/stock")["stock"]:
        qty = int(row["on_hand"])
        if qty:
            by_loc = on_hand[row["sku"]]
            by_loc[row["loc"]] = by_loc.get(row["loc"], 0) + qty
    on_hand = {sku: {loc: q for loc, q in locs.items() if q} for sku, locs in on_hand.items()}
    refused = [
        {"code": row["code"], "reason": row["reason"]}
        for row in _get(api, "/v1/quarantine?status=open")["entries"]
    ]
    alerts = sorted(row["sku"] for row in _get(api, "/v1/reorder-alerts")["alerts"])
    sell_through = {
        row["sku"]: float(row["sell_through_pct"])
        for row in _get(api, "/v1/reports/sell-through")["skus"]
        if row.get("sold") and row.get("sell_through_pct") is not None
    }
    variance: dict[str, int] = defaultdict(int)
    for ref in count_refs:
        for line in _get(api, f"/v1/counts/{ref}")["lines"]:
            if line.get("status") == "closed":
                variance[line["sku"]] += int(line["variance"])
    return {
        "on_hand": {
            sku: dict(sorted(locs.items())) for sku, locs in sorted(on_hand.items()) if locs
        },
        "channel_last_push": receiver.last_push(),
        "refused": refused,
        "reorder_alerts": alerts,
        "sell_through_pct": dict(sorted(sell_through.items())),
        "count_variance": dict(sorted(variance.items())),
    } | ({"gateway": gateway_figures(status_url)} if status_url else {})


def _get(api: httpx.Client, path: str) -> Any:
    response = api.get(path)
    response.raise_for_status()
    return response.json()


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    for row in cells[1:]:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if not rows:
        out.append("(none)")
    return "\n".join(out)


def printable(code: str) -> str:
    """A raw barcode as an admin can read it: control characters shown as <GS>, \\xNN."""
    names = {"\x1d": "<GS>"}
    return "".join(
        names.get(ch, f"\\x{ord(ch):02x}") if ord(ch) < 32 or ord(ch) == 127 else ch for ch in code
    )


def alert_details(api: httpx.Client) -> list[dict[str, Any]]:
    return list(_get(api, "/v1/reorder-alerts")["alerts"])


def render(summary: dict[str, Any], alerts: list[dict[str, Any]] | None = None) -> str:
    stock_rows = [
        [sku, loc, qty] for sku, locs in summary["on_hand"].items() for loc, qty in locs.items()
    ]
    push_rows = [
        [channel, sku, qty]
        for channel, skus in summary["channel_last_push"].items()
        for sku, qty in skus.items()
    ]
    refused_rows = [[printable(r["code"]), r["reason"]] for r in summary["refused"]]
    detail = {a["sku"]: a for a in alerts or []}
    alert_rows = [
        [sku, detail[sku]["available"], detail[sku]["reorder_point"], detail[sku]["suggested_qty"]]
        if sku in detail
        else [sku, "", "", ""]
        for sku in summary["reorder_alerts"]
    ]
    sell_rows = [[sku, f"{pct:.1f} %"] for sku, pct in summary["sell_through_pct"].items()]
    var_rows = [[sku, f"{v:+d}"] for sku, v in summary["count_variance"].items()]
    return "\n\n".join(
        [
            table("Final stock (on hand)", ["SKU", "location", "qty"], stock_rows),
            table("Last push per channel (available)", ["channel", "SKU", "available"], push_rows),
            table("Refused scans (kept for an admin)", ["code", "reason"], refused_rows),
            table(
                "Reorder alerts (available at or below the reorder point)",
                ["SKU", "available", "reorder point", "suggested order"],
                alert_rows,
            ),
            table("Sell-through", ["SKU", "sell-through"], sell_rows),
            table("Count variance", ["SKU", "variance"], var_rows),
            table(
                "Gateway (its status page's /metrics)",
                ["figure", "value"],
                [[k.replace("_", " "), f"{v:g}"] for k, v in summary.get("gateway", {}).items()],
            ),
        ]
    )
