"""`/v1/purchase-orders`: create, list, read, submit, close, receive against, invoice."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import Clerk, DbDep, Reader
from server.purchasing import receiving, schemas, service
from server.purchasing.schemas import CloseBody, InvoiceBody, PoBody, ReceiptBody
from server.purchasing.service import Status
from server.validation import IdentifierPath

router = APIRouter()


@router.post("/v1/purchase-orders", dependencies=Clerk, responses=schemas.ok(schemas.PO))
async def post_po(body: PoBody, db: DbDep) -> dict[str, Any]:
    """Create a purchase order.

    A draft (nothing can be received until it is submitted), or open at once with
    `submit: true`. Lines naming one SKU twice are added up; a line without `unit_cost`
    takes the SKU's. `expected_on` defaults to today + the supplier's lead time.
    409 `purchase order exists`."""
    return await db.write(service.create, body.to_po())


@router.get("/v1/purchase-orders", dependencies=Reader, responses=schemas.ok(schemas.PO_LIST))
async def list_pos(db: DbDep, status: Status | None = None) -> dict[str, Any]:
    """List purchase orders.

    Summaries, oldest first; `?status=` one of draft, open, partially_received, received,
    closed, cancelled."""
    return {"purchase_orders": await db.read(service.list_all, status)}


@router.get("/v1/purchase-orders/{ref}", dependencies=Reader, responses=schemas.ok(schemas.PO))
async def get_po(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """One purchase order with its lines and receipts.

    Per line: ordered, received, outstanding, over (received beyond ordered), short (what a
    PO closed by hand never received), the ordered and invoiced unit cost. Receipts are the
    receipt movements booked against it, each with the cost it was booked at and the last
    invoiced cost."""
    return await db.read(service.get, ref)


@router.post(
    "/v1/purchase-orders/{ref}/submit", dependencies=Clerk, responses=schemas.ok(schemas.PO)
)
async def submit_po(ref: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """Submit a draft purchase order.

    draft → open: it can be received from now on. 409 `not a draft` otherwise."""
    return await db.write(service.submit, ref)


@router.post(
    "/v1/purchase-orders/{ref}/close", dependencies=Clerk, responses=schemas.ok(schemas.PO)
)
async def close_po(ref: IdentifierPath, db: DbDep, body: CloseBody | None = None) -> dict[str, Any]:
    """Close a purchase order by hand.

    An open or partially received PO becomes `closed` and its incomplete lines are flagged
    short; a draft becomes `cancelled`. Nothing more can be received against it. 409
    `purchase order closed` if it is already received, closed or cancelled."""
    return await db.write(service.close, ref, body.note if body else "")


@router.post(
    "/v1/purchase-orders/{ref}/receipts", dependencies=Clerk, responses=schemas.ok(schemas.PO)
)
async def post_receipts(ref: IdentifierPath, body: ReceiptBody, db: DbDep) -> dict[str, Any]:
    """Receive goods against a purchase order.

    Books every line from `supplier` into its bin at the line's unit cost (the invoiced one
    once there is one), all or nothing. More than ordered is booked and flagged over; the PO
    becomes received when every line is complete. 422 `purchase order draft`, `purchase order
    closed`, `purchase order received`, `not on purchase order`, `unknown location`."""
    lines = [receiving.ReceiptIn(x.sku, x.qty, x.loc, x.lot, x.expiry) for x in body.lines]
    return await db.write(receiving.post_receipts, ref, lines)


@router.post(
    "/v1/purchase-orders/{ref}/lines/{sku}/invoice",
    dependencies=Clerk,
    responses=schemas.ok(schemas.INVOICE),
)
async def post_invoice(
    ref: IdentifierPath, sku: IdentifierPath, body: InvoiceBody, db: DbDep
) -> dict[str, Any]:
    """Record the supplier's invoiced unit cost for a line.

    Writes a cost revision for every receipt movement of the line so far (valuation corrects
    stock and COGS from them) and books later receipts of the line at this cost. 404
    `not on purchase order` when the PO has no line for the SKU."""
    return await db.write(receiving.invoice, ref, sku, body.unit_cost, body.note)
