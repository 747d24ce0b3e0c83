"""Firmware: the heap the scanner needs and the flash it writes per scan, beside the targets.

On the MicroPython unix port, against the built tree (stockwire.firmware.build, .mpy modules):
- heap needed: the smallest heap, in 4 KB steps from 40 KB, that `make firmware-check`'s smoke
  scenario (labels, scans up to a 1000-byte code, acks over a scripted broker) runs in without
  running out of memory, beside the 64 KB target (shared/design/targets.md); and the heap used
  once every module is imported. The unix port is 64-bit: its objects cost about twice what
  they cost on the ESP32, so these figures are on the safe side.
- flash written per scan: bytes on average over 1,000 realistic scans with label changes and
  ranged acks (tools/firmware_figures.py: the outbox's records, compaction, seq.json, the
  label context), beside the 128 B target.
- append + ack: µs per scan for one outbox append (flushed) and its ack, beside the same bytes
  plainly appended and flushed to a file in the same run (informative; no target).
The ratio is figure / target for the first three (≤ 1 meets it) and reference / figure for
the time (the fraction of the plain write's speed).

    python -m bench.firmware [--scans 1000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from stockwire import firmware
from tools import firmware_figures
from tools.firmware_check import heap_after_imports, smoke

HEAP_TARGET_KB = 64
MAX_KB = 128  # twice the target: how far off a miss is


def smallest_heap_kb(tree: Path) -> int | None:
    """From the target down while it runs, or up from the target until it does."""
    if smoke(tree, f"{HEAP_TARGET_KB}k") is None:
        kb = HEAP_TARGET_KB
        while kb > 40 and smoke(tree, f"{kb - 4}k") is None:
            kb -= 4
        return kb
    return next((kb for kb in range(68, MAX_KB + 1, 4) if smoke(tree, f"{kb}k") is None), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=firmware_figures.SCANS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree = firmware.build(Path(tmp) / "tree")
        needed = smallest_heap_kb(tree)
        imported = heap_after_imports(tree)
        fl = firmware_figures.measure(tree, args.scans)
    target = HEAP_TARGET_KB * 1024
    rows = [
        (
            "heap needed (smoke scenario)",
            f"{needed} KB" if needed else f">{MAX_KB} KB",
            f"{HEAP_TARGET_KB} KB",
            f"{needed / HEAP_TARGET_KB:.2f}" if needed else "-",
        ),
        (
            "heap used after imports",
            f"{imported[0]} B" if imported else "failed",
            f"{target} B",
            f"{imported[0] / target:.2f}" if imported else "-",
        ),
        (
            f"flash written per scan ({fl.scans})",
            f"{fl.per_scan:.1f} B",
            f"{firmware_figures.FLASH_TARGET} B",
            f"{fl.per_scan / firmware_figures.FLASH_TARGET:.2f}",
        ),
        (
            "outbox append+ack per scan",
            f"{fl.append_ack_us} us",
            f"{fl.plain_us} us plain",
            f"{fl.plain_us / max(fl.append_ack_us, 1):.2f}",
        ),
    ]
    print(f"firmware on the MicroPython unix port, heap {firmware.HEAP} unless stated")
    print(f"{'figure':<32} {'value':>10} {'target/ref':>15} {'ratio':>6}")
    for name, value, ref, ratio in rows:
        print(f"{name:<32} {value:>10} {ref:>15} {ratio:>6}")


if __name__ == "__main__":
    main()
