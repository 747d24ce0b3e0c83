"""`GET/PUT /v1/company` (settings), `GET /v1/valuation`, `GET /v1/valuation/{sku}/cogs`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from server.db.sql import iso
from server.deps import AdminOnly, DbDep, Reader
from server.errors import Refused
from server.validation import IdentifierPath
from server.valuation import company, service
from server.valuation.ledger import aware

router = APIRouter()

CarryingRate = Annotated[Decimal, Field(ge=0, le=10, decimal_places=4, allow_inf_nan=False)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
DateFrom = Annotated[date | None, Query(alias="from", description="first day (UTC), inclusive")]
DateTo = Annotated[date | None, Query(alias="to", description="day after the last (UTC)")]

_COMPANY = {
    "valuation_method": "average",
    "currency": "EUR",
    "carrying_rate": "0.2500",
    "updated_at": "2026-12-01T09:30:00.000Z",
}


class CompanyBody(BaseModel):
    valuation_method: Literal["fifo", "average"] | None = None
    currency: Currency | None = None
    carrying_rate: CarryingRate | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"valuation_method": "average"},
                {"valuation_method": "fifo", "currency": "USD", "carrying_rate": "0.30"},
            ]
        },
    )


@router.get(
    "/v1/company",
    dependencies=Reader,
    responses={200: {"content": {"application/json": {"example": _COMPANY}}}},
)
async def get_company(db: DbDep) -> dict[str, Any]:
    """The company settings: valuation method, currency, annual carrying rate.

    A ledger that never stored them answers the defaults (fifo, EUR, 0.25) with
    `updated_at: null`."""
    return await db.read(company.read)


@router.put(
    "/v1/company",
    dependencies=AdminOnly,
    responses={200: {"content": {"application/json": {"example": _COMPANY}}}},
)
async def put_company(body: CompanyBody, db: DbDep) -> dict[str, Any]:
    """Change the company settings (fields left out keep their value).

    Valuation is derived from the movements every time, so a new method re-values the whole
    history — stock value and past COGS alike — from the next report on."""
    return await db.write(company.update, body.valuation_method, body.currency, body.carrying_rate)


def parse_as_of(text: str | None) -> tuple[datetime | None, str | None]:
    """(exclusive upper bound, label): a date means the end of that day (UTC), a date-time
    includes events at that instant; a date-time without an offset is UTC."""
    if text is None:
        return None, None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return service.end_of(day), day.isoformat()
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused("bad as_of", f"{text!r} is not YYYY-MM-DD or an ISO 8601 date-time") from None
    when = aware(when)
    return when + timedelta(microseconds=1), iso(when)


_VALUATION = {
    "as_of": "2026-12-01",
    "method": "fifo",
    "currency": "EUR",
    "skus": [
        {
            "sku": "PHC-01",
            "qty": 7,
            "value": "24.50",
            "unit_cost": "3.5000",
            "method": "fifo",
            "currency": "EUR",
        }
    ],
    "total": "24.50",
}


@router.get(
    "/v1/valuation",
    dependencies=Reader,
    responses={200: {"content": {"application/json": {"example": _VALUATION}}}},
)
async def get_valuation(
    db: DbDep,
    as_of: Annotated[
        str | None, Query(max_length=40, description="YYYY-MM-DD (end of day) or a date-time")
    ] = None,
) -> dict[str, Any]:
    """Stock value per SKU and in total under the company's method.

    Every SKU with any valuation event: the quantity the company owns (bins, in transit,
    quarantine), its value, and the unit cost of what is on hand (value ÷ qty; null when
    qty ≤ 0). Without `as_of`: now, after every event."""
    until, label = parse_as_of(as_of)
    doc = await db.read(service.valuation, until)
    return {**doc, "as_of": label}


_COGS = {
    "sku": "PHC-01",
    "method": "fifo",
    "currency": "EUR",
    "from": "2026-11-27",
    "to": "2026-12-02",
    "sales": [
        {
            "seq": 3,
            "at": "2026-11-29T10:00:00.000Z",
            "movement_id": 3,
            "ref": "SO-1",
            "qty": 12,
            "cost": "26.00",
            "unit_cost": "2.1667",
        }
    ],
    "returns": [],
    "corrections": [
        {
            "seq": 5,
            "at": "2026-12-01T09:41:12.304Z",
            "kind": "revision",
            "movement_id": 2,
            "revision_id": 1,
            "unit_cost": "3.5000",
            "note": "invoice INV-88",
            "cogs": "1.50",
            "inventory": "3.50",
        }
    ],
    "totals": {"sales": "26.00", "returns": "0.00", "corrections": "1.50", "cogs": "27.50"},
}


@router.get(
    "/v1/valuation/{sku}/cogs",
    dependencies=Reader,
    responses={200: {"content": {"application/json": {"example": _COGS}}}},
)
async def get_cogs(
    sku: IdentifierPath, db: DbDep, start: DateFrom = None, end: DateTo = None
) -> dict[str, Any]:
    """One SKU's cost of goods sold per sale, returns and cost corrections in [from, to).

    Each sale (stock issued to the customer) with the cost the method charged; each customer
    return with the value it came back at (credited to COGS); each correction posted in the
    period: a cost revision's share for stock already gone, or a receipt's true-up of stock
    issued short. `totals.cogs` = sales − returns + corrections."""
    if start and end and end <= start:
        raise Refused("bad period", f"to ({end}) must be after from ({start})")
    return await db.read(service.cogs, sku, start, end)
