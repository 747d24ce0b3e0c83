"""An online, consistent copy of the gateway's buffer, taken while the gateway runs.

Owns `backup()`: SQLite's backup API copies the whole database in one step, inside one read
transaction, so the copy is the buffer as of one commit (every row committed before the copy
began, nothing half-written). In WAL mode that read does not block the gateway's writer, and
the writer does not disturb the read. The copy is written beside its destination and renamed
into place only after `PRAGMA integrity_check` passed on it, and it is a single self-contained
file (rollback journal, not WAL), ready to be copied back by the restore steps in
docs/operations.md. Also owns its command, `stockwire gateway backup --config F --to FILE`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class BackupError(Exception):
    """The buffer could not be copied; the message is one line for an operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    scans: int
    pending: int
    dead_letters: int
    bytes: int


def backup(buffer_path: str | Path, dest: str | Path) -> BackupResult:
    """Copy the buffer at `buffer_path` to `dest` (replaced atomically if it exists)."""
    source_path = Path(buffer_path)
    dest = Path(dest)
    if not source_path.is_file():
        raise BackupError(f"no buffer at {source_path}")
    if dest.exists() and dest.resolve() == source_path.resolve():
        raise BackupError(f"{dest} is the buffer itself")
    owner = source_path.stat().st_uid
    if os.geteuid() == 0 and owner != 0:
        # root would leave -wal/-shm files the gateway's own user cannot open
        raise BackupError(f"run this as the buffer's owner (uid {owner}): sudo -u stockwire ...")
    tmp = dest.with_name(f".{dest.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        # mode=rw: a missing file is an error rather than a new empty database
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=rw", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source_path}: {exc}") from None
    try:
        source.execute("PRAGMA busy_timeout=5000")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        copy = sqlite3.connect(tmp)
        try:
            source.backup(copy)  # pages=-1: the whole database in one step, one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = copy.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                raise BackupError(f"the copy failed its integrity check: {check[:3]}")
            scans, pending = copy.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM scans"
            ).fetchone()
            (dead,) = copy.execute("SELECT count(*) FROM dead_letters").fetchone()
        finally:
            copy.close()
        _fsync(tmp)
        os.replace(tmp, dest)
        _fsync(dest.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source_path} failed: {exc}") from None
    finally:
        source.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return BackupResult(dest, int(scans), int(pending), int(dead), dest.stat().st_size)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def add_command(sub: Any) -> None:
    """Register `gateway backup` on the `stockwire gateway` sub-parser set."""
    parser = sub.add_parser("backup", help="copy the buffer while the gateway runs")
    parser.add_argument("--config", required=True, help="gateway TOML file")
    parser.add_argument("--to", required=True, metavar="FILE", help="where the copy goes")
    parser.set_defaults(handler=_backup_command)


def _backup_command(args: argparse.Namespace) -> int:
    from gateway.config import load_for_command

    config = load_for_command(args.config)
    if config is None:
        return 2
    try:
        result = backup(config.buffer.path, args.to)
    except (BackupError, OSError) as exc:
        print(f"gateway backup: {exc}", file=sys.stderr)
        return 1
    print(
        f"{result.path}: {result.scans} scans ({result.pending} pending), "
        f"{result.dead_letters} dead letters, {result.bytes} bytes; integrity ok"
    )
    return 0
