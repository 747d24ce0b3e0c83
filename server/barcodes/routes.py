"""`GET /v1/barcodes/explain?code=` (admin): what the ledger makes of any code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.barcodes.explain import explain
from server.deps import DbDep, Reader

router = APIRouter(dependencies=Reader)


@router.get("/v1/barcodes/explain")
async def get_explain(code: str, db: DbDep) -> dict[str, Any]:
    return await db.read(lambda conn: explain(code, conn))
