"""The admins' status page and /metrics, served in-process by the gateway (uvicorn).

`StatusServer` owns the listener: the socket is bound when the gateway is built (so a busy
port fails the start-up, and port 0 gives tests a free one), uvicorn serves the FastAPI app of
`gateway.status.app` on the gateway's event loop, and `stop()` ends the live streams and the
server before the gateway closes its buffer. uvicorn's own signal handling is switched off:
the gateway's SIGTERM/SIGINT handlers stay in charge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import TYPE_CHECKING

import uvicorn

from gateway.config import StatusConfig

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the gateway handles signals itself


class StatusServer:
    def __init__(self, config: StatusConfig) -> None:
        self.config = config
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((config.host, config.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        self.closing = asyncio.Event()
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    def start(self, gw: Gateway) -> asyncio.Task[None]:
        from gateway.status.app import create_app

        app = create_app(gw, self.closing)
        self._server = _Server(
            uvicorn.Config(
                app, log_level="warning", lifespan="off", access_log=False,
                proxy_headers=False, timeout_graceful_shutdown=2,
            )
        )  # fmt: skip
        self._task = asyncio.create_task(self._serve(), name="status")
        log.info("status page on %s", self.url)
        return self._task

    async def _serve(self) -> None:
        assert self._server is not None
        await self._server.serve(sockets=[self._sock])

    async def stop(self) -> None:
        self.closing.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except TimeoutError:
                self._task.cancel()
        self._sock.close()
