"""`make firmware-check`: the firmware's own checks, run where and as the firmware runs.

1. Every MicroPython test module under tests/firmware/mp/ on the unix port with a 64 KB heap
   (the target's, shared/design/targets.md), each in a fresh interpreter, against the
   compiled .mpy modules of the deployed tree (stockwire.firmware.build).
2. The built tree itself: every module imports (the heap the resident ones hold is printed;
   the seldom-run ones, loaded only while they run, are imported on their own), and a smoke
   scenario (labels, scans up to a 1000-byte code, acks, over a scripted MQTT broker on
   loopback) runs at the project's heap (stockwire.firmware.HEAP); then the smallest heap it
   runs in is searched (56k..80k in 2k steps) and printed beside the 64k target: met, or
   missed by how much. Only the run at the project's heap is asserted.
   The flash bytes written per scan over 1,000 realistic scans (tools/firmware_figures.py):
   printed, and asserted against the target (128 B on average).
   The full scanner (tools/firmware_system.py): the built tree as a provisioned scanner
   against the real Mosquitto (the product's config), the gateway and the ledger on loopback;
   a scan made while the gateway is stopped; every scan booked exactly once, BOOKED for each.
3. mypy over the firmware against the micropython-esp32 stubs (machine, network, asyncio's
   ThreadSafeFlag...) with MicroPython's stdlib stubs as the typeshed.
4. firmware/board.json against the ESP32's pin rules (stockwire/board.py).
Exit status non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

from stockwire import board, firmware
from tools import firmware_figures, firmware_system

ROOT = Path(__file__).resolve().parents[1]
MP_TESTS = ROOT / "tests" / "firmware" / "mp"
HEAP = "64k"  # the target (shared/design/targets.md)
SMOKE_HEAPS = tuple(f"{k}k" for k in range(56, 81, 2))
# what the scanner holds on the unix port (hal_esp32's own modules are not loaded there)
_MODULES: tuple[str, ...] = ("app", "event", "framing", "hal_unix", "labels", "mqtt", "mqttpkt")
_MODULES += ("outbox", "retry", "ring", "battery", "cues")
# loaded only while they run (stockwire_fw.call), and the ESP32 side's pure modules
_LAZY = ("outbox_log", "context", "remote", "menu", "engine_reply", "trigger", "cue_patterns")
_LAZY += ("ssd1306",)


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def run_mp_tests(tree: Path) -> bool:
    passed = failed = 0
    env = dict(os.environ, STOCKWIRE_FW_LIB=str(tree / "lib"))
    for path in sorted(MP_TESTS.glob("test_*.py")):
        proc = subprocess.run(
            firmware.micropython(HEAP, str(MP_TESTS / "run.py"), path.stem),
            cwd=ROOT,
            env=env,
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


# ---- the built tree ------------------------------------------------------------------------

_IMPORTS = """
import gc, sys
sys.path.insert(0, "lib")
import asyncio
for n in ("Event", "Lock", "wait_for_ms", "gather", "open_connection", "StreamReader"):
    getattr(asyncio, n)
for n in %r:
    __import__("stockwire_fw." + n)
gc.collect()
print("heap", gc.mem_alloc(), gc.mem_free())
"""


def heap_after_imports(tree: Path) -> tuple[int, int] | None:
    """(allocated, free) bytes of a 64k heap once the resident modules are imported (and
    None if any module of the tree, the seldom-run ones too, fails to import)."""
    for mod in _LAZY:
        proc = subprocess.run(
            firmware.micropython(HEAP, "-c", _IMPORTS % ((mod,),)),
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if not re.search(r"^heap \d+ \d+$", proc.stdout, re.M):
            print(f"{mod}: {proc.stdout}{proc.stderr}")
            return None
    proc = subprocess.run(
        firmware.micropython(HEAP, "-c", _IMPORTS % (_MODULES,)),
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=30,
    )
    m = re.search(r"^heap (\d+) (\d+)$", proc.stdout, re.M)
    if not m:
        print(proc.stdout + proc.stderr)
        return None
    return int(m[1]), int(m[2])


class _Broker(threading.Thread):
    """A scripted MQTT 3.1.1 broker for one scanner: CONNACK, SUBACK, PUBACK, PINGRESP, and a
    `stored` ack on ack/<dev> for every scan published."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.scans: list[int] = []

    def run(self) -> None:
        try:
            while True:
                conn, _ = self.sock.accept()
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
        except OSError:
            return

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, conn: socket.socket) -> None:
        ack_topic = b""
        try:
            while True:
                t = self._read(conn, 1)[0]
                n = shift = 0
                while True:
                    c = self._read(conn, 1)[0]
                    n |= (c & 0x7F) << shift
                    shift += 7
                    if not c & 0x80:
                        break
                body = self._read(conn, n)
                kind = t & 0xF0
                if kind == 0x10:
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind == 0x80:
                    tl = struct.unpack_from("!H", body, 2)[0]
                    if b"/ack/" in body[4 : 4 + tl]:  # not config/<dev>: nothing sent there
                        ack_topic = body[4 : 4 + tl]
                    conn.sendall(b"\x90\x03" + body[:2] + b"\x01")
                elif kind == 0x30:
                    tl = struct.unpack_from("!H", body)[0]
                    topic = body[2 : 2 + tl]
                    p = 2 + tl
                    if t & 0x06:
                        conn.sendall(b"\x40\x02" + body[p : p + 2])
                        p += 2
                    if b"/scan/" in topic:
                        seq = json.loads(body[p:])["seq"]
                        self.scans.append(seq)
                        ack = json.dumps({"seqs": [[seq, seq]], "status": "stored"}).encode()
                        rest = struct.pack("!H", len(ack_topic)) + ack_topic + ack
                        conn.sendall(b"\x30" + _varlen(len(rest)) + rest)
                elif kind == 0xC0:
                    conn.sendall(b"\xd0\x00")
                elif kind == 0xE0:
                    return
        except (EOFError, OSError):
            return
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _varlen(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


SMOKE_READS = [b"SW:MODE:receive", b"]C0SW:LOC:WH1-A-01", b"SW:REF:PO-1001", b"SW:QTY:3"]
SMOKE_READS += [b"]C1" + b"0109501101530003\x1d10LOT%d" % i for i in range(20)]
SMOKE_READS += [b"x" * 1000, b"y" * 1100, b"SW:CLOSE", b"5901234123457"]
SMOKE_SCANS = 22  # the items above (the 1100-byte read is refused: too long)


def smoke(tree: Path, heap: str, oom_fails: bool = True) -> str | None:
    """Run the scenario on `tree` with `heap`; None if every scan was taken and stored (and,
    with `oom_fails`, the scanner never ran out of memory), else what went wrong.

    Without `oom_fails` an out-of-memory is tolerated where the firmware recovers from it (a
    send that failed is retried from the outbox): what must hold is that nothing is lost."""
    broker = _Broker()
    broker.start()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        feed = work / "feed"
        os.mkfifo(feed)
        cfg = {
            "dev": "hs-01",
            "site": "site1",
            "mqtt": {"port": broker.port, "password": "x", "timeout_ms": 2000},
            "state_dir": tmp,
            "feed": str(feed),
            "heartbeat_s": 1,
            "resend_s": 2,
        }
        (work / "scanner.json").write_text(json.dumps(cfg))
        proc = subprocess.Popen(
            firmware.command(tree, work / "scanner.json", heap),
            cwd=tree,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        lines: list[str] = []
        threading.Thread(
            target=lambda: lines.extend(r.decode(errors="replace").rstrip() for r in proc.stdout),  # type: ignore[union-attr]
            daemon=True,
        ).start()
        fd = os.open(feed, os.O_RDWR)  # never blocks, even if the firmware died before opening
        try:
            for r in SMOKE_READS:
                os.write(fd, r + b"\r")
                time.sleep(0.01)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                now = list(lines)
                if oom_fails and any("out of memory" in x or "Error" in x for x in now):
                    break  # no need to wait: this heap is too small
                if sum(1 for x in now if x.startswith("STORED")) >= SMOKE_SCANS:
                    time.sleep(1.2)  # a heartbeat more
                    break
                time.sleep(0.05)
        finally:
            os.close(fd)
            proc.kill()
            proc.wait()
            broker.close()
        taken = [x for x in lines if x.startswith("TAKEN")]
        stored = [x for x in lines if x.startswith("STORED")]
        oom = [x for x in lines if "out of memory" in x or "MemoryError" in x]
        if len(taken) != SMOKE_SCANS or len(stored) < SMOKE_SCANS or (oom and oom_fails):
            tail = "\n".join(lines[-8:])
            return f"taken {len(taken)}, stored {len(stored)}, oom {len(oom)}:\n{tail}"
        if oom:
            print(f"  (recovered from {len(oom)} out-of-memory: {'; '.join(oom)})")
        return None


def check_tree(tree: Path) -> bool:
    heap = heap_after_imports(tree)
    if heap is None:
        print("built tree: an import failed")
        return False
    print(
        f"built tree: all modules import; the resident ones in a {HEAP} heap: "
        f"{heap[0]} B used, {heap[1]} B free"
    )
    failure = smoke(tree, firmware.HEAP, oom_fails=False)
    if failure:
        print(f"smoke scenario at {firmware.HEAP}: FAILED, {failure}")
        return False
    print(f"smoke scenario at {firmware.HEAP}: ok ({SMOKE_SCANS} scans taken and stored)")
    smallest = next((h for h in SMOKE_HEAPS if smoke(tree, h) is None), None)
    if smallest is None:
        verdict = f"none of {SMOKE_HEAPS[0]}..{SMOKE_HEAPS[-1]}"
    else:
        gap = int(smallest[:-1]) - int(HEAP[:-1])
        verdict = smallest + (
            f": target {HEAP} met" if gap <= 0 else f": target {HEAP} MISSED by {gap}k"
        )
    print(f"smallest heap the smoke scenario runs in without running out of memory: {verdict}")
    return True


# ---- types ---------------------------------------------------------------------------------


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


def check_board() -> bool:
    """firmware/board.json against the ESP32's pin rules (stockwire/board.py)."""
    found = board.problems(json.loads(board.BOARD.read_text()))
    print("board.json:", "ok" if not found else "refused\n  " + "\n  ".join(found))
    return not found


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tree = firmware.build(Path(tmp) / "tree")
        ok = run_mp_tests(tree)
        ok = check_tree(tree) and ok
        ok = firmware_figures.check(tree) and ok
        ok = firmware_system.check(tree) and ok
    ok = run_mypy() and ok
    ok = check_board() and ok
    print("firmware-check:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
