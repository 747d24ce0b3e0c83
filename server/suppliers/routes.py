"""`POST /v1/suppliers` (admin), `GET /v1/suppliers`, `GET /v1/suppliers/{code}`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from server.deps import AdminOnly, DbDep, Reader
from server.suppliers import service
from server.validation import Identifier, IdentifierPath, Name

router = APIRouter()

MAX_LEAD_TIME_DAYS = 3650
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
_SUPPLIER = {
    "code": "ACME",
    "name": "Acme Cosmetics",
    "lead_time_days": 7,
    "currency": "EUR",
    "created_at": "2026-03-02T08:00:00.000Z",
}


class SupplierBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "ACME", "name": "Acme Cosmetics", "lead_time_days": 7, "currency": "EUR"}
            ]
        }
    )
    code: Identifier
    name: Name = ""
    lead_time_days: int = Field(0, ge=0, le=MAX_LEAD_TIME_DAYS)
    currency: Currency | None = None


@router.post(
    "/v1/suppliers",
    dependencies=AdminOnly,
    responses={200: {"content": {"application/json": {"example": _SUPPLIER}}}},
)
async def post_supplier(body: SupplierBody, db: DbDep) -> dict[str, Any]:
    """Create or update a supplier.

    Creates the supplier `code`, or replaces its name, lead time and currency. The lead
    time (days) sets the expected date of its purchase orders and reorder drafts."""
    item = service.SupplierIn(body.code, body.name, body.lead_time_days, body.currency)
    return await db.write(service.upsert, item)


@router.get(
    "/v1/suppliers",
    dependencies=Reader,
    responses={200: {"content": {"application/json": {"example": {"suppliers": [_SUPPLIER]}}}}},
)
async def get_suppliers(db: DbDep) -> dict[str, Any]:
    """List suppliers.

    Every supplier, by code."""
    return {"suppliers": await db.read(service.list_all)}


@router.get(
    "/v1/suppliers/{code}",
    dependencies=Reader,
    responses={200: {"content": {"application/json": {"example": _SUPPLIER}}}},
)
async def get_supplier(code: IdentifierPath, db: DbDep) -> dict[str, Any]:
    """One supplier.

    The supplier `code`; 404 `unknown supplier`."""
    return await db.read(service.get, code)
