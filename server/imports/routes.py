"""`POST /v1/imports/catalog` (admin) and `POST /v1/imports/stocktake` (clerk): a CSV file as
the raw request body, checked whole; 422 with every row error, or one transaction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from server.deps import AdminOnly, Clerk, DbDep
from server.imports import catalog, stocktake
from server.imports.csvfile import ImportRejected
from server.validation import Identifier

router = APIRouter()

DryRun = Annotated[bool, Query(description="check the file only, write nothing")]
Ref = Annotated[Identifier, Query(description="the stocktake reference (used once)")]

_CATALOG_CSV = (
    "sku,name,unit_cost,gtin,inner_gtin,inner_qty,case_gtin,case_qty,reorder_point,reorder_qty,"
    "safety_stock\r\n"
    "CLN-200,Facial cleanser 200 ml,4.00,09506000134352,,,19506000134359,12,30,100,5\r\n"
)
_STOCKTAKE_CSV = (
    "sku,loc,lot,expiry,qty,unit_cost\r\n"
    "CLN-200,WH1-A-01,L2406,2027-06-30,40,3.95\r\n"
    "PHC-01,WH1-A-02,,,15,\r\n"
)
_REJECTED = {
    "reason": "invalid rows",
    "detail": "2 error(s) in 2 row(s) of the catalog file; nothing was imported",
    "errors": [
        {
            "row": 3,
            "column": "gtin",
            "reason": "check digit",
            "detail": "GTIN 5901234123458 has check digit 8, 7 expected",
        },
        {"row": 4, "column": "sku", "reason": "duplicate sku", "detail": "X-1 is also on row 2"},
    ],
    "more": 0,
}
_REPEATED = {
    "detail": "stocktake exists: stocktake 'OPEN-2026' was imported already",
    "reason": "stocktake exists",
}
_CATALOG_DONE = {
    "dry_run": False,
    "rows": 2,
    "created": ["CLN-200"],
    "updated": [{"sku": "PHC-01", "changed": ["unit_cost"]}],
    "unchanged": [],
    "gtins_added": 2,
    "ignored_columns": [],
}
_STOCKTAKE_DONE = {
    "ref": "OPEN-2026",
    "dry_run": False,
    "rows": 1,
    "movements": 1,
    "lines": [
        {
            "row": 2,
            "sku": "CLN-200",
            "loc": "WH1-A-01",
            "lot": "L2406",
            "expiry": "2027-06-30",
            "qty": 40,
            "before": 0,
            "delta": 40,
            "unit_cost": "3.9500",
        }
    ],
}


def _csv_body(example: str) -> dict[str, Any]:
    media = {"schema": {"type": "string", "format": "binary"}, "example": example}
    return {"requestBody": {"required": True, "content": {"text/csv": media}}}


def _responses(done: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {"application/json": {"example": done}}},
        422: {
            "description": "row errors (nothing imported)",
            "content": {"application/json": {"example": _REJECTED}},
        },
    }


async def _file(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").lower()
    if kind.startswith(("multipart/", "application/json")):
        raise HTTPException(415, "send the CSV file itself as the body (Content-Type: text/csv)")
    return await request.body()


@router.post(
    "/v1/imports/catalog",
    dependencies=AdminOnly,
    summary="Import the catalog from CSV",
    response_model=None,
    openapi_extra=_csv_body(_CATALOG_CSV),
    responses=_responses(_CATALOG_DONE),
)
async def import_catalog(request: Request, db: DbDep, dry_run: DryRun = False) -> Any:
    """Create or update SKUs with their each/inner/case GTINs from a CSV file (header row;
    columns sku, name, unit_cost, gtin, inner_gtin + inner_qty, case_gtin + case_qty,
    reorder_point, reorder_qty, safety_stock, supplier; only sku is required). UTF-8 with or
    without BOM, `,` or `;`. All rows or none: 422 `invalid rows` lists every row error (row 1
    is the header). An existing SKU changes only where its cell is not empty; GTINs are added,
    never removed. `dry_run=true` checks without writing."""
    data = await _file(request)
    try:
        if dry_run:
            return await db.read(catalog.run, data, True)
        return await db.write(catalog.run, data)
    except ImportRejected as exc:
        return JSONResponse(exc.to_json(), status_code=422)


@router.post(
    "/v1/imports/stocktake",
    dependencies=Clerk,
    summary="Import a baseline stocktake from CSV",
    response_model=None,
    openapi_extra=_csv_body(_STOCKTAKE_CSV),
    responses=_responses(_STOCKTAKE_DONE)
    | {
        409: {
            "description": "the ref was imported already",
            "content": {"application/json": {"example": _REPEATED}},
        }
    },
)
async def import_stocktake(request: Request, db: DbDep, ref: Ref, dry_run: DryRun = False) -> Any:
    """Book opening stock from a CSV file (columns sku, loc, qty; optional lot, expiry as
    YYYY-MM-DD, unit_cost). Each row sets that bin's on hand of the SKU and lot to qty: a rise
    is an `opening` movement from count-adjustment at the row's unit cost (else the SKU's), a
    fall a `stocktake` movement back. All rows or none (422 `invalid rows`); a `ref` is
    imported once (409 `stocktake exists`). `dry_run=true` shows the lines without booking."""
    data = await _file(request)
    try:
        if dry_run:
            return await db.read(stocktake.run, ref, data, True)
        return await db.write(stocktake.run, ref, data)
    except ImportRejected as exc:
        return JSONResponse(exc.to_json(), status_code=422)
