"""Cycle counts (`/v1/counts...`), stocktakes (`POST /v1/stocktakes`) and the shrinkage
report (`GET /v1/reports/shrinkage`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from server.counts import service, shrinkage, stocktake
from server.counts.review import summaries
from server.deps import Clerk, DbDep, Reader
from server.validation import Identifier, IdentifierPath, Quantity

router = APIRouter()

_LINE = {
    "sku": "GUM-12",
    "loc": "WH1-B-02",
    "lot": "",
    "all_lots": False,
    "snapshot": 40,
    "expected": 40,
    "counted": 38,
    "variance": -2,
    "value": "-1.00",
    "devices": {"hs-03": 20, "hs-04": 18},
    "blind_zero": False,
    "counted_at": "2026-12-03T16:02:11.000Z",
    "status": "review",
}
_COUNT = {
    "ref": "CC-7",
    "kind": "scoped",
    "blind": True,
    "status": "review",
    "opened_at": "2026-12-03T15:40:00.000Z",
    "counted_at": "2026-12-03T16:02:11.000Z",
    "closed_at": None,
    "locations": ["WH1-B-01", "WH1-B-02"],
    "skus": None,
    "lines": [_LINE],
    "totals": {"lines": 1, "blind_zero": 0, "variance": -2, "value": "-1.00"},
    "notes": [],
}
_BOOKED = {"sku": "GUM-12", "loc": "WH1-B-02", "lot": "", "variance": -2}


def _ok(example: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": example}}}}


class StocktakeLine(BaseModel):
    sku: Identifier
    loc: Identifier
    qty: Quantity


class StocktakeBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"ref": "BASELINE", "lines": [{"sku": "GUM-12", "loc": "WH1-B-02", "qty": 40}]}
            ]
        }
    )
    ref: Identifier
    lines: list[StocktakeLine] = Field(min_length=1, max_length=100_000)


class OpenCount(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ref": "CC-7", "locations": ["WH1-B"], "blind": True},
                {"ref": "CC-8", "locations": ["WH1-A-01", "WH1-A-02"], "skus": ["PHC-01"]},
            ]
        },
    )
    ref: Identifier
    locations: list[Identifier] = Field(min_length=1, max_length=1000)
    skus: list[Identifier] | None = Field(default=None, max_length=10_000)
    blind: bool = False


class RecountLine(BaseModel):
    sku: Identifier
    loc: Identifier


class Recount(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"lines": [{"sku": "GUM-12", "loc": "WH1-B-02"}]}]},
    )
    lines: list[RecountLine] = Field(min_length=1, max_length=10_000)


@router.post("/v1/stocktakes", dependencies=Clerk, responses=_ok({"ref": "BASELINE", "lines": [
    {"sku": "GUM-12", "loc": "WH1-B-02", "qty": 40, "before": 0, "delta": 40}]}))  # fmt: skip
async def post_stocktake(body: StocktakeBody, db: DbDep) -> dict[str, Any]:
    """Set bins' on hand to counted figures (opening balances).

    Each line books the difference between the bin and `count-adjustment` (kind `stocktake`);
    a stocktake reference is used once (409 `stocktake exists`)."""
    lines = [(x.sku, x.loc, x.qty) for x in body.lines]
    return await db.write(stocktake.apply, body.ref, lines)


@router.post("/v1/counts", dependencies=Clerk, responses=_ok({**_COUNT, "status": "open"}))
async def open_count(body: OpenCount, db: DbDep) -> dict[str, Any]:
    """Open a cycle count for bins, zones or warehouses (optionally some SKUs only).

    A zone or warehouse stands for every bin below it. On hand is snapshotted per (SKU, bin,
    lot) in scope. Counters then scan in mode `count` with the count's reference; scans at a
    bin or of a SKU outside the scope are refused `not in count`. `blind` hides the expected
    figures until the count is submitted. 409 `count exists`; 422 `unknown location`,
    `no bins`; 404 `unknown sku`."""
    return await db.write(service.open_count, body.ref, body.locations, body.skus, body.blind)


@router.get("/v1/counts", dependencies=Reader, responses=_ok({"counts": [{
    k: _COUNT[k] for k in ("ref", "kind", "blind", "status", "opened_at", "counted_at",
                           "closed_at")}]}))  # fmt: skip
async def list_counts(
    db: DbDep, status: Literal["open", "review", "closed", "cancelled"] | None = None
) -> dict[str, Any]:
    """List cycle counts, newest first (optionally of one status)."""
    return {"counts": await db.read(summaries, status)}


@router.get("/v1/counts/{ref}", dependencies=Reader, responses=_ok(_COUNT))
async def get_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """A count with its review lines.

    Per line (one per SKU, bin and lot; one over all lots when the SKU was scanned without a
    lot where it is kept in lots): the snapshot at opening, the quantity expected at the count
    moment T1 (on hand now minus the movements after T1), what was counted and by which
    devices, the variance and its value at the SKU's unit cost. A line in scope nobody scanned
    counts as 0 (`blind_zero`). While the count is open the figures are provisional (hidden
    for a blind count)."""
    return await db.read(service.get, ref)


@router.post("/v1/counts/{ref}/submit", dependencies=Clerk, responses=_ok(_COUNT))
async def submit_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """End counting now (the count moment T1): the count goes to review.

    As a `count-close` scan does for a scoped count. 409 `count not open`."""
    return await db.write(service.submit, ref)


@router.post("/v1/counts/{ref}/approve", dependencies=Clerk, responses=_ok(
    {"ref": "CC-7", "booked": [_BOOKED], "count": {**_COUNT, "status": "closed"}}))  # fmt: skip
async def approve_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """Approve a count in review: book each variance and close it.

    Each non-zero variance is a `count-variance` movement between the bin and
    `count-adjustment` (ref = the count, event time = T1). 409 `count not in review`; 422
    `insufficient stock` when a loss would take the bin below zero (recount that line)."""
    return await db.write(service.approve, ref)


@router.post("/v1/counts/{ref}/recount", dependencies=Clerk, responses=_ok(
    {**_COUNT, "status": "open"}))  # fmt: skip
async def recount_count(ref: IdentifierPath, body: Recount, db: DbDep) -> dict[str, Any]:
    """Send (SKU, bin) lines of a count in review back to counting.

    Their counted figures and devices are reset (all lots of the SKU at the bin) and the
    count is open again for those lines only; the other lines keep their count and T1.
    409 `count not in review`; 422 `not in count`."""
    pairs = [(x.sku, x.loc) for x in body.lines]
    return await db.write(service.recount, ref, pairs)


@router.post("/v1/counts/{ref}/cancel", dependencies=Clerk, responses=_ok(
    {**_COUNT, "status": "cancelled"}))  # fmt: skip
async def cancel_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """Cancel an open or reviewed count; nothing is booked. 409 `count not open`."""
    return await db.write(service.cancel, ref)


@router.post("/v1/counts/{ref}/close", dependencies=Clerk, responses=_ok(
    {"ref": "CC-1", "booked": [_BOOKED], "count": {**_COUNT, "status": "closed"}}))  # fmt: skip
async def close_count(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """Submit (if still open) and approve a count in one step.

    What a `count-close` scan does for a spot count. 409 `count not open` when it is closed or
    cancelled."""
    return await db.write(service.close_all, ref)


_SHRINKAGE = {
    "from": "2026-12-01T00:00:00.000Z",
    "to": None,
    "skus": [
        {
            "sku": "GUM-12",
            "name": "Chewing gum 12-pack",
            "unit_cost": "0.5000",
            "count_loss": 3,
            "count_gain": 1,
            "adjustment_loss": 2,
            "adjustment_gain": 0,
            "shrinkage_qty": 4,
            "shrinkage_value": "2.00",
        }
    ],
    "total": {"shrinkage_qty": 4, "shrinkage_value": "2.00"},
}


@router.get(
    "/v1/reports/shrinkage",
    dependencies=Reader,
    responses={
        200: {
            "content": {
                "application/json": {"example": _SHRINKAGE},
                "text/csv": {
                    "example": ",".join(shrinkage.COLUMNS)
                    + "\nGUM-12,Chewing gum 12-pack,0.5000,3,1,2,0,4,2.00\nTOTAL,,,,,,,4,2.00\n"
                },
            }
        }
    },
)
async def get_shrinkage(
    db: DbDep,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Shrinkage per SKU: stock that vanished without a sale, in quantity and value.

    Count losses net of count gains (`count-variance`, `count-absorbed`) plus adjustment
    losses net of gains (movements into and out of `inventory-loss`), valued at the SKU's
    unit cost, for event times `from` ≤ t < `to` (ISO dates or times, UTC when no offset is
    given). `format=csv` answers CSV with a TOTAL row. 422 `bad period`."""
    start, end = shrinkage.period(since, until)
    doc = await db.read(shrinkage.report, start, end)
    if format == "csv":
        return Response(
            shrinkage.to_csv(doc),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="shrinkage.csv"'},
        )
    return doc
