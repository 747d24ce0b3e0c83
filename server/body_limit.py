"""A request body size limit as a small ASGI middleware: 413 beyond the limit of the path.

`POST /v1/scan-batches` carries up to a few thousand events and gets a larger limit than the
admin API. The body is read (up to the limit) before the app sees it, so a declared or
streamed body over the limit is answered 413 without parsing it.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIB = 1024 * 1024
DEFAULT_LIMIT = 4 * MIB
PATH_LIMITS: Mapping[str, int] = {"/v1/scan-batches": 8 * MIB}


class BodyLimit:
    def __init__(
        self, app: ASGIApp, default: int = DEFAULT_LIMIT, paths: Mapping[str, int] = PATH_LIMITS
    ) -> None:
        self.app = app
        self.default = default
        self.paths = dict(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope["path"], self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _answer(scope, receive, send, 400, "bad Content-Length header")
                return
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    detail = f"request body larger than {limit} bytes ({limit // MIB} MiB) for {scope['path']}"
    await _answer(scope, receive, send, 413, detail)


async def _answer(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    reason = "too large" if status == 413 else "bad request"
    headers = {"Connection": "close"}
    await JSONResponse({"detail": detail, "reason": reason}, status, headers)(scope, receive, send)
