"""The firmware's flash figures: bytes written to flash per scan, and the time one outbox
append + ack takes on the MicroPython unix port.

Owns running tools/firmware_figures_mp.py (the real Scanner and Outbox driven through a
realistic stretch of scans, labels and acks; see its docstring) in a built tree with the
project's heap, and reading its figures. `make firmware-check` prints them and asserts the
flash target; bench/firmware.py prints them beside the targets.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stockwire import firmware

SCRIPT = Path(__file__).resolve().parent / "firmware_figures_mp.py"
FLASH_TARGET = 128  # bytes written per scan on average (shared/design/targets.md)
SCANS = 1000


@dataclass(frozen=True)
class Flash:
    scans: int
    written: int  # Outbox.written: the outbox's records, seq.json, the label context file
    wchar: int  # every byte the process wrote to files
    labels: int  # label reads among the scans
    append_ack_us: int  # one outbox append (flushed) + its ack, on the unix port
    plain_us: int  # as many bytes appended to a file and flushed, in the same run

    @property
    def per_scan(self) -> float:
        """Bytes written per scan: the larger of the two counts (they should agree)."""
        return max(self.written, self.wchar) / self.scans


def measure(tree: Path, scans: int = SCANS) -> Flash:
    """Run the scenario on the built `tree`; RuntimeError with its output if it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            firmware.micropython(firmware.HEAP, str(SCRIPT), tmp, str(scans)),
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=120,
        )
    out = proc.stdout + proc.stderr
    f = re.search(r"^flash (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    t = re.search(r"^append\+ack (\d+) (\d+)$", out, re.M)
    if proc.returncode or not f or not t:
        raise RuntimeError(f"the flash scenario failed:\n{out}")
    return Flash(int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(t[1]), int(t[2]))


def check(tree: Path) -> bool:
    """Print the flash figures; False if the average is above FLASH_TARGET or the run failed."""
    try:
        fl = measure(tree)
    except RuntimeError as exc:
        print(exc)
        return False
    ok = fl.per_scan <= FLASH_TARGET
    print(
        f"flash written per scan: {fl.per_scan:.1f} B on average over {fl.scans} scans "
        f"({fl.labels} label reads, acks in ranges; Outbox.written {fl.written} B, all file "
        f"writes {fl.wchar} B): {'ok' if ok else 'ABOVE'} the target of {FLASH_TARGET} B; "
        f"append+ack {fl.append_ack_us} us per scan on the unix port"
    )
    return ok
