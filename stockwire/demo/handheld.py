"""One handheld scanner for the demo: the real firmware on the MicroPython unix port.

Owns the scanner's process, its config file and its barcode feed (a FIFO standing in for the
scan engine's UART: each read is the barcode's bytes then CR, one trigger pull). It follows the
firmware's outcome lines on stdout (TAKEN, STORED, BOOKED, REFUSED, ...).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from stockwire import firmware
from stockwire.files import write_private
from stockwire.processes import stop_process

_READ_ATTEMPTS = 3
_ERROR_GRACE_S = 0.5


class Handheld:
    """A firmware process reading barcodes from its feed and publishing to the broker."""

    def __init__(
        self,
        workdir: Path,
        firmware: Path,
        dev: str,
        site: str,
        mqtt_port: int,
        password: str,
        **settings: Any,
    ) -> None:
        """`settings` replace keys of the config below (e.g. a provisioned config's `mqtt`)."""
        self.dev = dev
        self.firmware = firmware
        self.dir = workdir / dev
        self.dir.mkdir(parents=True, exist_ok=True)
        self.feed = self.dir / "engine.fifo"
        if not self.feed.exists():
            os.mkfifo(self.feed)
        self.config = self.dir / "scanner.json"
        write_private(
            self.config,
            json.dumps(
                {
                    "dev": dev,
                    "site": site,
                    "mqtt": {
                        "host": "127.0.0.1",
                        "port": mqtt_port,
                        "user": dev,
                        "password": password,
                        "keepalive": 30,
                    },
                    "outbox": str(self.dir / "outbox.bin"),
                    "state_dir": str(self.dir),
                    "feed": str(self.feed),
                    "heartbeat_s": 5,
                    "resend_s": 5,
                }
                | settings,
                indent=1,
            ),
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[str] | None = None
        self._feed_fd: int | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            firmware.command(self.firmware, self.config),
            cwd=self.firmware,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        assert self.proc and self.proc.stdout
        with open(self.dir / "firmware.log", "a") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                with self._lock:
                    self.lines.append(line.rstrip("\n"))

    def seen(self, prefix: str) -> list[str]:
        with self._lock:
            return [line for line in self.lines if line.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.seen(prefix)) < count:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"{self.dev} firmware exited: see {self.dir / 'firmware.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.dev}: no {count}x {prefix!r} within {timeout}s")
            time.sleep(0.02)

    def read(self, *codes: str) -> None:
        """The worker aims, pulls the trigger and listens for the beep, one code at a time.

        The engine sends the code + CR. A read the scanner refuses (its error beep, e.g. when
        it is short of memory) was not taken, so the worker reads it again, as on the floor.
        """
        if self._feed_fd is None:
            self._feed_fd = os.open(self.feed, os.O_WRONLY)
        for code in codes:
            for _attempt in range(_READ_ATTEMPTS):
                mark = len(self.lines)
                os.write(self._feed_fd, code.encode() + b"\r")
                if self._outcome(mark) != "LOCAL-ERROR":
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"{self.dev}: {code!r} refused {_READ_ATTEMPTS} times")

    def _outcome(self, mark: int, timeout: float = 15.0) -> str:
        """TAKEN or LABEL for the read just made, or LOCAL-ERROR if only an error followed it."""
        deadline = time.monotonic() + timeout
        error_seen_at: float | None = None
        while True:
            with self._lock:
                fresh = self.lines[mark:]
            if any(line.startswith(("TAKEN ", "LABEL ")) for line in fresh):
                return "TAKEN"
            now = time.monotonic()
            if error_seen_at is None and any(line.startswith("LOCAL-ERROR") for line in fresh):
                error_seen_at = now
            if error_seen_at is not None and now - error_seen_at > _ERROR_GRACE_S:
                return "LOCAL-ERROR"  # another task's error would have been followed by ours
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"{self.dev} firmware exited: see {self.dir / 'firmware.log'}")
            if now > deadline:
                raise TimeoutError(f"{self.dev}: no beep within {timeout}s of reading a code")
            time.sleep(0.002)

    def stop(self) -> None:
        if self._feed_fd is not None:
            os.close(self._feed_fd)
            self._feed_fd = None
        if self.proc:
            stop_process(self.proc, timeout=5)
