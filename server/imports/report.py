"""An import's answer as the few lines `stockwire ledger import` prints."""

from __future__ import annotations

from typing import Any

from server.imports.csvfile import MAX_ERRORS, ImportRejected


def summary(kind: str, doc: dict[str, Any]) -> list[str]:
    head = "dry run, nothing written" if doc["dry_run"] else "ok"
    if kind == "catalog":
        lines = [
            f"{head}: {doc['rows']} row(s): {len(doc['created'])} SKU(s) created, "
            f"{len(doc['updated'])} updated, {len(doc['unchanged'])} unchanged; "
            f"{doc['gtins_added']} GTIN(s) added"
        ]
        if doc["created"]:
            lines.append(f"  created: {', '.join(doc['created'])}")
        if doc["updated"]:
            changed = (f"{u['sku']} ({', '.join(u['changed'])})" for u in doc["updated"])
            lines.append(f"  updated: {', '.join(changed)}")
        return lines
    rises = sum(x["delta"] for x in doc["lines"] if x["delta"] > 0)
    falls = sum(-x["delta"] for x in doc["lines"] if x["delta"] < 0)
    return [
        f"{head}: stocktake {doc['ref']}: {doc['rows']} row(s), {doc['movements']} movement(s): "
        f"+{rises} unit(s) in, -{falls} out"
    ]


def errors(exc: ImportRejected, limit: int = MAX_ERRORS) -> list[str]:
    lines = [exc.detail, *(f"  {e}" for e in exc.errors[:limit])]
    if len(exc.errors) > limit:
        lines.append(f"  ... and {len(exc.errors) - limit} more")
    return lines
