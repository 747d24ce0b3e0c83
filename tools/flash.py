"""Flash the scanner firmware and one device's config onto an ESP32 with mpremote.

Usage: python -m tools.flash --port /dev/ttyUSB0 --config hs-07.json [--dry-run]

The board must already run MicroPython (esptool writes that image). This builds the firmware
as it is deployed (stockwire.firmware.build: lib/ compiled to .mpy by mpy-cross, main.py and
boot.py kept as source), copies that tree (main.py, boot.py, board.json, lib/), then the
device's config as config.json, and soft-resets the board. --dry-run prints the mpremote
commands without running them (the tree is still built, into a temporary directory).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from stockwire import firmware


def commands(port: str, config: Path, tree: Path) -> list[list[str]]:
    """The mpremote commands that copy the built `tree` and `config` to the board."""
    base = [sys.executable, "-m", "mpremote", "connect", port]
    out: list[list[str]] = []
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree)
        if path.is_dir():
            out.append([*base, "fs", "mkdir", f":{rel}"])
        elif path.suffix in (".py", ".mpy", ".json"):
            out.append([*base, "fs", "cp", str(path), f":{rel}"])
    out.append([*base, "fs", "cp", str(config), ":config.json"])
    out.append([*base, "reset"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", required=True, help="serial port of the board")
    parser.add_argument("--config", type=Path, required=True, help="the device's config file")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = firmware.build(Path(tmp) / "firmware")
        for cmd in commands(args.port, args.config, tree):
            print(shlex.join(cmd))
            if not args.dry_run:
                result = subprocess.run(cmd, check=False)
                if result.returncode and "mkdir" not in cmd:  # mkdir of an existing dir fails
                    return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
