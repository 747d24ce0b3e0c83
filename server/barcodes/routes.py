"""`GET /v1/barcodes/explain?code=` (admin): what the ledger makes of any code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.barcodes.explain import explain
from server.deps import Admin, DbDep

router = APIRouter(dependencies=Admin)


@router.get("/v1/barcodes/explain")
def get_explain(code: str, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return explain(code, conn)
