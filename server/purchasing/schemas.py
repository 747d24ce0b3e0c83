"""Request bodies and OpenAPI examples of the purchase-order endpoints."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.purchasing.service import LineIn, PoIn
from server.validation import Identifier, Name, OrderQty, Text, UnitCost

MAX_LINES = 100_000


class PoLine(BaseModel):
    sku: Identifier
    qty: OrderQty
    unit_cost: UnitCost | None = None  # None: the SKU's unit cost


class PoBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ref": "PO-1001",
                    "supplier": "ACME",
                    "lines": [
                        {"sku": "CLN-200", "qty": 100, "unit_cost": "4.00"},
                        {"sku": "PHC-01", "qty": 50},
                    ],
                },
                {
                    "ref": "PO-1002",
                    "supplier": "ACME",
                    "expected_on": "2026-03-20",
                    "note": "spring restock",
                    "submit": True,
                    "lines": [{"sku": "GUM-12", "qty": 240, "unit_cost": "0.45"}],
                },
            ]
        }
    )
    ref: Identifier
    supplier: Identifier | None = None
    expected_on: date | None = None  # default: today + the supplier's lead time
    note: Name = ""
    submit: bool = False  # create it open (receivable) instead of draft
    lines: list[PoLine] = Field(min_length=1, max_length=MAX_LINES)

    def to_po(self) -> PoIn:
        lines = tuple(LineIn(x.sku, x.qty, x.unit_cost) for x in self.lines)
        return PoIn(self.ref, lines, self.supplier, self.expected_on, self.note, self.submit)


class CloseBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "supplier cannot deliver the rest"}]}
    )
    note: Name = ""


class ReceiptLine(BaseModel):
    sku: Identifier
    qty: OrderQty
    loc: Identifier
    lot: Text | None = None
    expiry: date | None = None


class ReceiptBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lines": [
                        {"sku": "CLN-200", "qty": 60, "loc": "WH1-A-01", "lot": "L2403",
                         "expiry": "2027-06-30"},
                        {"sku": "PHC-01", "qty": 50, "loc": "WH1-A-02"},
                    ]
                }
            ]
        }
    )  # fmt: skip
    lines: list[ReceiptLine] = Field(min_length=1, max_length=MAX_LINES)


class InvoiceBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"unit_cost": "4.20", "note": "invoice INV-77"}]}
    )
    unit_cost: UnitCost
    note: Name = ""


def ok(example: Any) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` with its 200 example."""
    return {200: {"content": {"application/json": {"example": example}}}}


LINE = {
    "sku": "CLN-200",
    "ordered": 100,
    "received": 60,
    "outstanding": 40,
    "over": 0,
    "short": 0,
    "flag": None,
    "unit_cost": "4.00",
    "invoiced_cost": None,
}
RECEIPT = {
    "movement_id": 412,
    "sku": "CLN-200",
    "qty": 60,
    "loc": "WH1-A-01",
    "lot": "L2403",
    "expiry": "2027-06-30",
    "unit_cost": "4.00",
    "invoiced_cost": None,
    "event_id": None,
    "booked_at": "2026-03-09T10:02:11.532Z",
}
HEAD: dict[str, Any] = {
    "ref": "PO-1001",
    "status": "partially_received",
    "supplier": "ACME",
    "currency": "EUR",
    "expected_on": "2026-03-09",
    "created_at": "2026-03-02T08:00:00.000Z",
    "submitted_at": "2026-03-02T08:05:00.000Z",
    "closed_at": None,
    "note": "",
    "flags": [],
}
PO = HEAD | {"lines": [LINE], "receipts": [RECEIPT]}
PO_LIST = {
    "purchase_orders": [HEAD | {"line_count": 1, "ordered": 100, "received": 60}],
}
INVOICE = {
    "ref": "PO-1001",
    "sku": "CLN-200",
    "invoiced_cost": "4.20",
    "note": "invoice INV-77",
    "revised": [{"movement_id": 412, "qty": 60, "unit_cost_before": "4.00", "unit_cost": "4.20"}],
}
