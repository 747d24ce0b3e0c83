"""The scanner firmware as it is deployed: compiled to .mpy bytecode, run on the unix port.

Owns building `firmware/` into a deployable tree (main.py, boot.py, board.json and lib/ as
.mpy files made by mpy-cross, as they are copied to a board) and the command line that runs
that tree on the MicroPython unix port with an ESP32-sized heap. Compiling ahead of time is
what lets the scanner live in an ESP32-sized heap: compiling .py sources on the device costs
more RAM than the application itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "firmware"
# The heap the scanner runs with on the unix port (demo, tests). The target is 64k
# (shared/design/targets.md); the firmware needs 68k-70k there today (a 64-bit port: every
# pointer and object header is twice an ESP32's), so the project runs it with 72k, a step of
# margin. `make firmware-check` prints the figure and the gap (docs/firmware.md, "Memory").
HEAP = os.environ.get("STOCKWIRE_FIRMWARE_HEAP", "72k")
_AS_SOURCE = ("main.py", "boot.py")  # entry points stay .py, as on a board
# no line-number tables in the bytecode (~1 KB of heap): tracebacks name the function only
_MPY_CROSS_OPTS = ("-X", "no-source-lines")


def venv_binary(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} is not installed in this venv (make installs it)")


def build(
    into: Path, source: Path = SOURCE, mpy_cross_opts: Sequence[str] = _MPY_CROSS_OPTS
) -> Path:
    """Compile the firmware into `into` (replaced atomically); return `into`.

    `mpy_cross_opts` replace the default options (stockwire/flash.py passes `-c VERSION` to
    compile for an older board's MicroPython with the mpy-cross release made for it).
    """
    into.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fw-", dir=into.parent))
    compiler = venv_binary("mpy-cross")
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_dir() or "__pycache__" in rel.parts:
            continue
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".py" and rel.as_posix() not in _AS_SOURCE:
            subprocess.run(
                [
                    compiler,
                    *mpy_cross_opts,
                    "-o",
                    str(target.with_suffix(".mpy")),
                    "-s",
                    path.stem,
                    str(path),
                ],
                check=True,
            )
        elif path.suffix in (".py", ".json"):
            shutil.copy2(path, target)
    if into.exists():
        shutil.rmtree(into)
    staging.rename(into)
    return into


def command(tree: Path, config: Path, heap: str = HEAP) -> list[str]:
    """The unix-port command that runs a built tree with `config`; run it with cwd=tree."""
    return micropython(heap, "main.py", "--config", str(config))


def micropython(heap: str, *args: str) -> list[str]:
    """The unix-port command line with an ESP32-sized `heap` (e.g. "64k") and `args`."""
    return [venv_binary("micropython"), "-X", f"heapsize={heap}", *args]
