"""Helpers shared by the purchasing and reorder tests: a supplier, opening stock, PUT, SQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from server.db.engine import Database
from tests.server.support import ADMIN, Api

EAN_PHC = "5901234123457"
GTIN_CLN = "09506000134352"
EAN_GUM = "00036000291452"
ACME = {"code": "ACME", "name": "Acme Cosmetics", "lead_time_days": 7, "currency": "EUR"}


def seed(api: Api, supplier: bool = True) -> None:
    """The standard catalog and bins, with supplier ACME (7 days) as CLN-200's and PHC-01's."""
    api.seed()
    if supplier:
        api.post("/v1/suppliers", ACME)
        for doc in api.get("/v1/skus")["skus"]:
            if doc["sku"] in ("CLN-200", "PHC-01"):
                keep = ("sku", "name", "unit_cost", "reorder_point", "reorder_qty")
                api.post("/v1/skus", {k: doc[k] for k in keep} | {"supplier": "ACME"})


def opening(api: Api, sku: str, loc: str, qty: int, ref: str = "OPEN") -> None:
    api.post("/v1/stocktakes", {"ref": ref, "lines": [{"sku": sku, "loc": loc, "qty": qty}]})


def put(api: Api, path: str, body: Any, status: int = 200) -> Any:
    response = api.client.put(path, json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    return response.json()


def sql(db_url: str, query: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of one SELECT on the ledger, through a connection of its own."""

    async def go() -> list[tuple[Any, ...]]:
        db = Database(db_url)
        try:
            return await db.read(lambda conn: [tuple(r) for r in conn.execute(text(query), params)])
        finally:
            await db.dispose()

    return asyncio.run(go())
