"""Helpers for the valuation and KPI tests: scans at a stated time, SKU costs, cost revisions,
company settings and the CLI, on the `api` fixture's ledger."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, select

from server.db.engine import Database
from server.db.schema import cost_revisions, movements, skus
from server.db.sql import now
from stockwire.cli import main
from tests.server.support import ADMIN, CATALOG, Api, scan

T = TypeVar("T")
EAN = {"PHC-01": "5901234123457", "CLN-200": "09506000134352", "GUM-12": "00036000291452"}
BEAN_CHECK = Path(sys.executable).parent / "bean-check"


def on_db(db_url: str, fn: Callable[[Connection], T]) -> T:
    """fn(conn) in one write transaction on the ledger, through a Database of its own."""

    async def go() -> T:
        db = Database(db_url)
        try:
            return await db.write_quietly(fn)
        finally:
            await db.dispose()

    return asyncio.run(go())


class Books:
    """The test's view of one ledger: book scans at a time, read valuation and KPIs."""

    def __init__(self, api: Api, db_url: str) -> None:
        self.api = api
        self.db_url = db_url

    def scan(self, when: datetime, sku: str, mode: str, loc: str, qty: int = 1,
             ref: str = "") -> None:  # fmt: skip
        """A handheld scan that happened at `when` (device and gateway time)."""
        ms = int(when.timestamp() * 1000)
        dev = "hs-val"
        code = EAN.get(sku, sku)  # a SKU, or a code such as SW:CLOSE
        event = scan(dev, self.api.next_seq(dev), code, mode, loc, ref, qty, ts=ms,
                     gw_ts=ms + 100)  # fmt: skip
        result = self.api.batch([event])[0]
        assert result["status"] == "booked", result

    def sku_cost(self, sku: str, cost: str) -> None:
        """The SKU's unit cost from now on (what a receipt without a PO is booked at)."""
        catalog: list[dict[str, Any]] = list(CATALOG)  # type: ignore[arg-type]
        item = next(c for c in catalog if c["sku"] == sku)
        self.api.post("/v1/skus", {**item, "unit_cost": cost})

    def receipts(self, sku: str | None = None) -> list[int]:
        """Ids of the receipt movements (of one SKU), oldest first."""
        query = select(movements.c.id).where(movements.c.kind == "receive")
        if sku is not None:
            query = query.join(skus, skus.c.id == movements.c.sku_id).where(skus.c.sku == sku)
        ids = on_db(self.db_url, lambda conn: list(conn.execute(query.order_by("id")).scalars()))
        return [int(i) for i in ids]

    def revise(self, movement_id: int, cost: str, note: str = "") -> datetime:
        """The supplier's invoice puts receipt `movement_id` at `cost`, booked now (returned)."""
        at = now()
        row = {"movement_id": movement_id, "unit_cost": Decimal(cost), "note": note,
               "revised_at": at}  # fmt: skip
        on_db(self.db_url, lambda conn: conn.execute(cost_revisions.insert().values(**row)))
        return at

    def company(self, **settings: Any) -> dict[str, Any]:
        response = self.api.client.put("/v1/company", json=settings, headers=ADMIN)
        assert response.status_code == 200, response.text
        doc: dict[str, Any] = response.json()
        return doc

    def valuation(self, **params: Any) -> dict[str, Any]:
        doc: dict[str, Any] = self.api.get("/v1/valuation", **params)
        return doc

    def sku_value(self, sku: str, **params: Any) -> tuple[int, str]:
        row = next(r for r in self.valuation(**params)["skus"] if r["sku"] == sku)
        return row["qty"], row["value"]

    def cogs(self, sku: str, **params: Any) -> dict[str, Any]:
        doc: dict[str, Any] = self.api.get(f"/v1/valuation/{sku}/cogs", **params)
        return doc

    def kpis(self, start: str, end: str, **params: Any) -> dict[str, Any]:
        doc: dict[str, Any] = self.api.get("/v1/reports/kpis", **{"from": start, "to": end},
                                           **params)  # fmt: skip
        return doc


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`stockwire ARGV` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def day_noon(day: Any, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
