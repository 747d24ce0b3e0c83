"""One way to run a platform's stand-in on loopback for a test: `serve(handle)` starts a
threaded HTTP server on a free port whose every request is `handle(method, path, headers,
body) -> (status, headers, body)`; `stop(server)` ends it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

Reply = tuple[int, dict[str, str], bytes]


def serve(handle: Callable[[str, str, Any, bytes], Reply]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, headers, out = handle(self.command, self.path, self.headers, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=lambda: server.serve_forever(0.05), daemon=True).start()
    return server


def stop(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


def json_reply(status: int, doc: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json"} | (headers or {}), orjson.dumps(doc)
