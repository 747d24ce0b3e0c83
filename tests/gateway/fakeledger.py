"""A real HTTP ledger on loopback that implements protocol §3 and records what it was sent.

Books each event id once (later copies answer `duplicate`), refuses codes listed in
`refuse`, answers 500 to any batch holding an event id listed in `crash_on` (a ledger bug
that one event triggers), and can be told to fail (`status`), to slow down (`delay`), to
answer 429/503 with Retry-After, or to call `hook` while a request is held (to look at the
gateway meanwhile).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


class FakeLedger:
    def __init__(self, token: str = "ledger-token") -> None:
        self.token = token
        self.lock = threading.Lock()
        self.status = 200  # answer this instead of 200 while set
        self.retry_after: str | None = None
        self.delay = 0.0
        self.refuse: dict[str, str] = {}  # code -> reason
        self.crash_on: set[str] = set()  # event ids ("dev:seq") whose batch gets a 500
        self.hook: Callable[[list[dict[str, Any]]], None] | None = None
        self.requests: list[tuple[float, int, list[str]]] = []  # (time, status, event ids)
        self.outcomes: dict[str, dict[str, Any]] = {}  # event id -> first result
        self.booked: list[dict[str, Any]] = []  # events in booking order
        ledger = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                ledger._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeLedger:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answered(self) -> list[list[str]]:
        """Event ids of every batch that got a 200, in order."""
        return [ids for _, status, ids in self.requests if status == 200]

    def booked_ids(self) -> list[str]:
        return [f"{e['dev']}:{e['seq']}" for e in self.booked]

    def _reply(
        self, h: BaseHTTPRequestHandler, status: int, doc: Any, headers: dict[str, str]
    ) -> None:
        body = orjson.dumps(doc)
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length", "0")))
        if h.path != "/v1/scan-batches":
            return self._reply(h, 404, {"detail": "not found"}, {})
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(h, 401, {"detail": "wrong token"}, {})
        try:
            events = orjson.loads(body)["events"]
            ids = [f"{e['dev']}:{e['seq']}" for e in events]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return self._reply(h, 422, {"detail": "malformed body"}, {})
        if self.hook:
            self.hook(events)
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            status = self.status
            crashed = sorted(self.crash_on.intersection(ids))
            if status == 200 and crashed:
                self.requests.append((time.monotonic(), 500, ids))
                detail = f"Traceback: KeyError 'sku' while booking {crashed[0]}"
                return self._reply(h, 500, {"detail": detail}, {})
            if status != 200:
                self.requests.append((time.monotonic(), status, ids))
                headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                return self._reply(h, status, {"detail": "unavailable"}, headers)
            results = []
            for event, event_id in zip(events, ids, strict=True):
                first = self.outcomes.get(event_id)
                if first is not None:
                    results.append({**first, "status": "duplicate"})
                    continue
                reason = self.refuse.get(event["code"], "")
                result = {"dev": event["dev"], "seq": event["seq"]}
                if reason:
                    result.update(status="refused", reason=reason, detail=event["code"])
                else:
                    result["status"] = "booked"
                    self.booked.append(event)
                self.outcomes[event_id] = result
                results.append(result)
            self.requests.append((time.monotonic(), 200, ids))
        self._reply(h, 200, {"results": results}, {})
