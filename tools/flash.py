"""Flash the scanner firmware and one device's config onto an ESP32 with mpremote.

Usage: python -m tools.flash --port /dev/ttyUSB0 --config hs-07.json [--dry-run]

The board must already run MicroPython (esptool writes that image). This copies main.py,
boot.py, board.json and lib/ from firmware/, then the device's config as config.json, and
soft-resets the board. --dry-run prints the mpremote commands without running them.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"


def commands(port: str, config: Path) -> list[list[str]]:
    base = [sys.executable, "-m", "mpremote", "connect", port]
    out: list[list[str]] = []
    for path in sorted(FIRMWARE.rglob("*")):
        rel = path.relative_to(FIRMWARE)
        if "__pycache__" in rel.parts or rel.parts[0] == "tests":
            continue
        if path.is_dir():
            out.append([*base, "fs", "mkdir", f":{rel}"])
        elif path.suffix in (".py", ".json"):
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
    for cmd in commands(args.port, args.config):
        print(shlex.join(cmd))
        if not args.dry_run:
            result = subprocess.run(cmd, check=False)
            if result.returncode and "mkdir" not in cmd:  # mkdir of an existing dir fails
                return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
