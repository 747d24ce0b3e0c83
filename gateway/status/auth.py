"""Who may see the status page: the admins file (argon2 hashes), sessions and login lockout.

Owns: the admins file's format and its writing (`stockwire gateway admin add`), password
checks (argon2id via argon2-cffi; an unknown name costs the same as a wrong password), the
sessions (a random token in an HttpOnly, SameSite=Strict cookie; the gateway's SQLite keeps
only its SHA-256, the admin's name, a per-session CSRF token and a fixed expiry) and the
lockout after repeated failures (per name and per client address, in memory).

The admins file:

    [admins]
    alice = "$argon2id$v=19$m=65536,t=3,p=4$..."
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import time
import tomllib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.buffer import Buffer
from gateway.model import now_ms
from stockwire.wire import valid_name

_hasher = PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_hex(16))  # verified against for unknown names


class AdminsFileError(ValueError):
    """The admins file cannot be read."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def read_admins(path: str | Path) -> dict[str, str]:
    """Name -> argon2 hash; no file means no admins (nobody can log in)."""
    try:
        with Path(path).open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise AdminsFileError(f"{path}: {exc}") from exc
    admins = doc.get("admins", {})
    if not isinstance(admins, dict):
        raise AdminsFileError(f"{path}: [admins] must be a table")
    return {str(k): str(v) for k, v in admins.items() if isinstance(v, str)}


def add_admin(path: str | Path, name: str, password: str) -> None:
    """Add `name` (or change its password); the file is replaced atomically, mode 0600."""
    if not valid_name(name):
        raise AdminsFileError("an admin's name is letters, digits, '-', '_', '.'")
    if not password:
        raise AdminsFileError("the password is empty")
    path = Path(path)
    admins = read_admins(path)
    admins[name] = hash_password(password)
    lines = [
        "# Stockwire gateway admins (the status page); written by",
        "# `stockwire gateway admin add NAME --config gateway.toml`.",
        "[admins]",
    ]
    lines += [f'"{n}" = "{h}"' for n, h in sorted(admins.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".admins-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_password(admins: dict[str, str], name: str, password: str) -> bool:
    """True when `password` is `name`'s (slow on purpose: call it off the event loop)."""
    known = admins.get(name)
    try:
        return _hasher.verify(known or _DUMMY, password) and known is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Session:
    name: str
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Logins kept in the gateway's SQLite: they survive a restart and expire at a fixed time."""

    def __init__(self, buffer: Buffer, minutes: float) -> None:
        self._buffer = buffer
        self._ms = int(minutes * 60_000)

    @property
    def seconds(self) -> int:
        return self._ms // 1000

    async def start(self, name: str) -> str:
        """A new session for `name`; returns the cookie's token."""
        token, now = secrets.token_urlsafe(32), now_ms()
        await self._buffer.add_session(
            _digest(token), name, secrets.token_urlsafe(32), now + self._ms, now
        )
        return token

    async def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        found = await self._buffer.session(_digest(token), now_ms())
        return Session(*found) if found else None

    async def end(self, token: str | None) -> None:
        if token:
            await self._buffer.drop_session(_digest(token), now_ms())


class Lockout:
    """Refuses logins for `minutes` after `failures` failed ones within that time, per key
    (the name tried, and the client's address)."""

    def __init__(self, failures: int, minutes: float) -> None:
        self._max = failures
        self._window = minutes * 60
        self._failed: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failed.setdefault(key, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        return times

    def wait(self, keys: list[str], now: float | None = None) -> float:
        """Seconds until these keys may try again (0: now)."""
        now = time.monotonic() if now is None else now
        waits = [
            times[-self._max] + self._window - now
            for key in keys
            if len(times := self._recent(key, now)) >= self._max
        ]
        return max(waits, default=0.0)

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failed) > 10_000:  # forget quiet keys so a scan of names cannot grow this
            for key in [k for k, v in self._failed.items() if not self._recent(k, now)]:
                del self._failed[key]

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failed.pop(key, None)
