"""A sales channel's side of the signed webhook: verifies and records stock pushes.

Owns signature checking (docs/protocol.md §4) for the demo and the tests: HMAC-SHA256 over
"<timestamp>." + raw body, a 300 s replay window, and dropping versions that do not rise.
It runs a real HTTP server on loopback in a thread of the calling process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLAY_WINDOW_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, signature: str, body: bytes, now: float) -> str:
    """Return "" if the push is authentic and fresh, else why not."""
    if not timestamp.isdigit():
        return "missing timestamp"
    if abs(now - int(timestamp)) > REPLAY_WINDOW_S:
        return "timestamp outside the replay window"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        return "bad signature"
    return ""


@dataclass
class ChannelLog:
    """What one channel has received: every accepted push, the newest per SKU, rejections."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    stale: int = 0


class WebhookReceiver:
    """Loopback HTTP server taking pushes for one or more channels at /hooks/<channel>."""

    def __init__(self, secrets: dict[str, str], host: str = "127.0.0.1", port: int = 0) -> None:
        self.secrets = secrets
        self.logs = {name: ChannelLog() for name in secrets}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, channel: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{channel}"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def last_push(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                name: {sku: int(doc["available"]) for sku, doc in sorted(log.latest.items())}
                for name, log in self.logs.items()
            }

    def take(self, channel: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        secret = self.secrets.get(channel)
        if secret is None:
            return 404, "unknown channel"
        problem = verify(
            secret,
            headers.get("x-stockwire-timestamp", ""),
            headers.get("x-stockwire-signature", ""),
            body,
            time.time(),
        )
        log = self.logs[channel]
        if problem:
            with self._lock:
                log.rejected.append(problem)
            return 401, problem
        try:
            doc = json.loads(body)
            sku, version = str(doc["sku"]), int(doc["version"])
        except (ValueError, KeyError, TypeError):
            return 400, "bad body"
        with self._lock:
            log.accepted.append(doc)
            seen = log.latest.get(sku)
            if seen is not None and int(seen["version"]) >= version:
                log.stale += 1
            else:
                log.latest[sku] = doc
        return 200, "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = self.path.strip("/").split("/")
                channel = parts[1] if len(parts) == 2 and parts[0] == "hooks" else ""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, text = receiver.take(channel, headers, body)
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
