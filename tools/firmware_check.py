"""`make firmware-check`: the firmware's own checks, run where the firmware runs.

1. Every MicroPython test module under tests/firmware/mp/ on the unix port with a 64 KB heap,
   each in a fresh interpreter (a heap as small as the target's, not shared between modules).
2. mypy over the firmware against the micropython-esp32 stubs (machine, network, asyncio's
   ThreadSafeFlag...) with MicroPython's stdlib stubs as the typeshed.
Exit status non-zero on any failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MP_TESTS = ROOT / "tests" / "firmware" / "mp"
HEAP = "64k"


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def run_mp_tests() -> bool:
    passed = failed = 0
    for path in sorted(MP_TESTS.glob("test_*.py")):
        proc = subprocess.run(
            [_bin("micropython"), "-X", f"heapsize={HEAP}", str(MP_TESTS / "run.py"), path.stem],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = proc.stdout + proc.stderr
        m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
        if not m:
            failed += 1
            print(f"{path.stem}: runner crashed\n{out}")
            continue
        passed += int(m[1])
        failed += int(m[2])
        if int(m[2]) or proc.returncode:
            print(out)
    print(f"{passed} passed, {failed} failed")
    return failed == 0 and passed > 0


def _stub_dir(site: Path, into: Path) -> list[str]:
    """The esp32 stubs are installed flat into site-packages; link them into a dir of their
    own (mypy refuses site-packages itself on MYPYPATH). Returns their module names."""
    record = next(site.glob("micropython_esp32_stubs-*.dist-info")) / "RECORD"
    tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines()}
    names = []
    for top in sorted(tops):
        if top.endswith(".dist-info") or not (top.endswith(".pyi") or (site / top).is_dir()):
            continue
        (into / top).symlink_to(site / top)
        names.append(top.removesuffix(".pyi"))
    return names


def run_mypy() -> bool:
    site = Path(sysconfig.get_paths()["purelib"])
    if not (site / "stdlib" / "VERSIONS").exists():
        site = ROOT / ".venv" / "lib" / "python3.11" / "site-packages"
    with tempfile.TemporaryDirectory() as tmp:
        names = _stub_dir(site, Path(tmp))
        # the stubs' own inconsistencies are not ours to fix: report only the firmware
        ini = Path(tmp) / "mypy.ini"
        ini.write_text(
            "[mypy]\n"
            + "".join(f"[mypy-{n}]\nignore_errors = True\n" for n in names)
            + "[mypy-_mpy_shed.*]\nignore_errors = True\n"
        )
        env = dict(os.environ, MYPYPATH=f"{tmp}:{ROOT / 'firmware' / 'lib'}")
        proc = subprocess.run(
            [
                _bin("mypy"),
                "--config-file",
                str(ini),
                # MicroPython has no typing module, so attributes set to None first stay
                # Optional to mypy; the firmware sets them before use
                "--disable-error-code",
                "union-attr",
                "--custom-typeshed-dir",
                str(site),
                "--no-site-packages",
                "--python-version",
                "3.11",
                "--check-untyped-defs",
                "--cache-dir",
                str(Path(tmp) / "cache"),
                "-p",
                "stockwire_fw",
            ],
            cwd=ROOT / "firmware" / "lib",
            env=env,
            capture_output=True,
            text=True,
        )
    print(proc.stdout + proc.stderr, end="")
    return proc.returncode == 0


def main() -> int:
    ok = run_mp_tests()
    ok = run_mypy() and ok
    print("firmware-check:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
