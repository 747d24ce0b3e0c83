"""Drives the real firmware as it is deployed: the built tree (stockwire.firmware.build: .mpy
modules) on the MicroPython unix port with the project's heap (stockwire.firmware.HEAP, 72k
unless STOCKWIRE_FIRMWARE_HEAP says otherwise); config, feed FIFO, stdout lines."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

from stockwire import firmware


class Scanner:
    def __init__(
        self, tree: Path, workdir: Path, port: int, password: str, dev: str = "hs-01", **extra
    ):
        self.tree = tree  # a built firmware tree
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.feed = self.dir / f"{dev}.feed"
        if not self.feed.exists():
            os.mkfifo(self.feed)
        self.cfg = {
            "dev": dev,
            "site": "site1",
            "mqtt": {
                "host": "127.0.0.1",
                "port": port,
                "user": dev,
                "password": password,
                "keepalive": 10,
                "timeout_ms": 1000,
                "backoff_ms": 100,
                "backoff_cap_ms": 500,
            },
            "outbox": str(self.dir / "outbox.log"),
            "state_dir": str(self.dir),
            "feed": str(self.feed),
            "heartbeat_s": 30,
            "resend_s": 30,
            **extra,
        }
        (self.dir / "scanner.json").write_text(json.dumps(self.cfg))
        self.proc: subprocess.Popen[bytes] | None = None
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self._fd: int | None = None

    def start(self) -> str:
        self.proc = subprocess.Popen(
            firmware.command(self.tree, self.dir / "scanner.json"),
            cwd=self.tree,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        return self.expect("READY")

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.log.append(line)
            self.lines.put(line)

    def expect(self, prefix: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {prefix!r} within {timeout}s; output:\n" + "\n".join(self.log)
                )
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line

    def read(self, *codes: str | bytes) -> None:
        """Pull the trigger once per code: raw bytes then CR into the feed."""
        if self._fd is None:
            self._fd = os.open(self.feed, os.O_WRONLY)
        for c in codes:
            data = c.encode() if isinstance(c, str) else c
            os.write(self._fd, data + b"\r")

    def kill9(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        self.kill9()
