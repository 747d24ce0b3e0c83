"""`GET /v1/quarantine` and `POST /v1/quarantine/{id}/replay` (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.deps import Admin, DbDep
from server.quarantine.service import list_all, replay
from server.validation import IdPath, QuarantineStatus

router = APIRouter(dependencies=Admin)


@router.get("/v1/quarantine")
def get_quarantine(db: DbDep, status: QuarantineStatus | None = None) -> dict[str, Any]:
    with db.read() as conn:
        return {"entries": list_all(conn, status)}


@router.post("/v1/quarantine/{qid}/replay")
def post_replay(qid: IdPath, db: DbDep) -> dict[str, Any]:
    return replay(db, qid)
