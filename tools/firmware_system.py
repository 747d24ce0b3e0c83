"""`make firmware-check`'s full scanner: the real firmware against the real Mosquitto (the
config the product ships: logins, ACL), the real gateway process and the ledger, on loopback.

Owns one bounded scenario and its verdict. A scanner provisioned as on a site (its login in a
site registry, its config.json from gateway.provision) runs the built tree on the MicroPython
unix port with the project's heap (stockwire.demo.handheld, as the demo runs it); Mosquitto,
the ledger and the gateway are started by stockwire.processes, as the demo starts them. The
worker sets up mode and location, scans items (a one-shot quantity, GS1 and EAN codes), then
the gateway is stopped, an item is scanned, the gateway started again, the location changed
and one more item scanned. Every scan the scanner took must be booked exactly once in the
ledger (one `booked` scan event and one movement for its dev:seq) and the scanner must have
printed BOOKED for it. Prints one line with the outcome and timings.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from gateway.provision import issue, scanner_config
from gateway.registry import Registry
from stockwire import firmware
from stockwire.demo.handheld import Handheld
from stockwire.processes import Gateway, Ledger, Mosquitto

SITE = "site1"
GATEWAY_ID = "gw-1"
DEV = "hs-09"
LOCATIONS = ("WH1-A-01", "WH1-A-02")
CATALOG = (("CLN-200", "09506000134352"), ("PHC-01", "05901234123457"))
# what the worker reads: labels first, then items (EAN-13 with its AIM prefix, a GS1-128 with
# GTIN and lot, a bare GTIN-14); one item while the gateway is stopped; then a new location
ONLINE = ["SW:MODE:receive", "]C0SW:LOC:WH1-A-01", "]E05901234123457", "SW:QTY:3"]
ONLINE += ["]C10109506000134352\x1d10L2612", "09506000134352"]
WHILE_STOPPED = ["]E05901234123457"]
AFTER = ["SW:LOC:WH1-A-02", "]C10109506000134352\x1d10L2701"]
ITEMS = 5
BUDGET_S = 40.0


class Failed(Exception):
    pass


def _load_catalog(api: httpx.Client) -> None:
    for code in LOCATIONS:
        api.post("/v1/locations", json={"code": code}).raise_for_status()
    for sku, gtin in CATALOG:
        doc = {
            "sku": sku,
            "name": sku,
            "unit_cost": "1.00",
            "gtins": [{"gtin": gtin, "multiplier": 1}],
        }
        api.post("/v1/skus", json=doc).raise_for_status()


def _seqs(hh: Handheld, prefix: str) -> list[int]:
    return [int(line.split()[1]) for line in hh.seen(prefix)]


def _wait_booked(hh: Handheld, seqs: list[int], deadline: float) -> None:
    while not set(seqs) <= set(_seqs(hh, "BOOKED ")):
        if time.monotonic() > deadline:
            missing = sorted(set(seqs) - set(_seqs(hh, "BOOKED ")))
            raise Failed(f"no BOOKED on the scanner for seqs {missing} in time")
        time.sleep(0.02)


def _verdict(api: httpx.Client, taken: list[int], hh: Handheld) -> None:
    """Each taken seq: one booked scan event, one movement, a BOOKED line; nothing else."""
    if len(taken) != ITEMS or len(set(taken)) != ITEMS:
        raise Failed(f"the scanner took seqs {taken}, expected {ITEMS} distinct")
    events = api.get("/v1/scan-events", params={"dev": DEV, "limit": 1000}).json()["events"]
    per_seq = Counter(e["seq"] for e in events)
    if sorted(per_seq.elements()) != sorted(taken):
        raise Failed(f"ledger scan events for seqs {sorted(per_seq.elements())}, taken {taken}")
    refused = [(e["seq"], e["reason"]) for e in events if e["status"] != "booked"]
    if refused:
        raise Failed(f"not booked by the ledger: {refused}")
    moves = api.get("/v1/movements", params={"kind": "receive", "limit": 1000}).json()
    ids = Counter(m["event_id"] for m in moves["movements"])
    if ids != Counter(f"{DEV}:{s}" for s in taken):
        raise Failed(f"ledger movements per event {dict(ids)}, taken {taken}")
    if not set(taken) <= set(_seqs(hh, "BOOKED ")):
        raise Failed("a scan booked in the ledger has no BOOKED on the scanner")


def _scenario(work: Path, tree: Path, times: dict[str, float]) -> list[int]:
    t0 = time.monotonic()
    deadline = t0 + BUDGET_S
    registry = Registry.load(work / "site", SITE)
    gw_login = issue(registry, GATEWAY_ID, "gateway")
    scanner_login = issue(registry, DEV, "scanner")
    registry.save()
    logs = work / "logs"
    broker = Mosquitto(work / "broker", registry.broker_site())
    ledger = Ledger(work / "ledger", [GATEWAY_ID], logs / "ledger.log")
    gateway = Gateway(
        work / "gateway",
        SITE,
        GATEWAY_ID,
        gw_login.password,
        broker.port,
        ledger,
        logs / "gateway.log",
    )
    provisioned = scanner_config(scanner_login, "127.0.0.1", broker.port)
    mqtt = provisioned["mqtt"] | {"timeout_ms": 1000, "backoff_ms": 100, "backoff_cap_ms": 500}
    hh = Handheld(work, tree, DEV, SITE, broker.port, scanner_login.password, mqtt=mqtt, resend_s=3)
    api = httpx.Client(
        base_url=ledger.url, headers={"Authorization": f"Bearer {ledger.admin_token}"}
    )
    try:
        broker.start()
        ledger.start()
        gateway.start()
        _load_catalog(api)
        hh.start()
        hh.wait_for("CONNECTED", timeout=deadline - time.monotonic())
        times["start"] = time.monotonic() - t0
        hh.read(*ONLINE)
        _wait_booked(hh, _seqs(hh, "TAKEN "), deadline)
        gateway.stop()
        hh.read(*WHILE_STOPPED)
        stopped_seq = _seqs(hh, "TAKEN ")[-1]
        time.sleep(0.5)  # published to the broker, waiting for the gateway's session
        if stopped_seq in _seqs(hh, "BOOKED "):
            raise Failed(f"seq {stopped_seq} booked while the gateway was stopped")
        back = time.monotonic()
        gateway.start()
        hh.read(*AFTER)
        _wait_booked(hh, [stopped_seq], deadline)
        times["back"] = time.monotonic() - back
        taken = _seqs(hh, "TAKEN ")
        _wait_booked(hh, taken, deadline)
        time.sleep(0.3)  # a late duplicate would have reached the ledger by now
        _verdict(api, taken, hh)
        errors = hh.seen("LOCAL-ERROR")
        if errors:
            raise Failed(f"the scanner reported {errors}")
        return taken
    except (TimeoutError, RuntimeError, httpx.HTTPError) as exc:
        raise Failed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        api.close()
        for stop in (hh.stop, gateway.stop, ledger.stop, broker.stop):
            with contextlib.suppress(Exception):
                stop()
        times["total"] = time.monotonic() - t0


def _tail(path: Path, n: int = 6) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(f"    {x}" for x in path.read_text(errors="replace").splitlines()[-n:])
    return "    (none)"


def check(tree: Path) -> bool:
    """Run the scenario on the built `tree`; print one line; True if nothing was lost or doubled."""
    times: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            taken = _scenario(work, tree, times)
        except Failed as exc:
            print(
                f"full scanner (Mosquitto, gateway, ledger): FAILED after {times['total']:.1f} s,"
                f" {exc}\n  firmware:\n{_tail(work / DEV / 'firmware.log')}"
                f"\n  gateway:\n{_tail(work / 'logs' / 'gateway.log')}"
            )
            return False
    print(
        f"full scanner (Mosquitto, gateway, ledger): ok, {len(taken)} scans each booked once "
        f"in the ledger and BOOKED on the scanner, 1 taken while the gateway was stopped "
        f"(booked {times['back']:.1f} s after it was started again); "
        f"start {times['start']:.1f} s, total {times['total']:.1f} s"
    )
    return True


def main() -> int:
    """`python -m tools.firmware_system`: this check alone, on a fresh build."""
    with tempfile.TemporaryDirectory() as tmp:
        return 0 if check(firmware.build(Path(tmp) / "tree")) else 1


if __name__ == "__main__":
    sys.exit(main())
