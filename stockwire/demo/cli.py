"""`stockwire demo`: run the whole system on this machine and play the warehouse shift."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stockwire.demo import summary as summary_mod
from stockwire.demo.run import Demo, DemoOptions, running
from stockwire.demo.scenario import Scenario


def add_commands(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo", help="run the whole system on this machine and play a warehouse shift"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON last")
    parser.add_argument("--serve", action="store_true", help="keep the system running after")
    parser.add_argument("--workdir", type=Path, help="where to keep databases and logs")
    parser.add_argument("--scenario", type=Path, help="a shift file (default: the built-in one)")
    parser.add_argument(
        "--kill-gateway-in-step", type=int, metavar="N", help="kill -9 the gateway in step N"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    log = (lambda text: print(text, file=sys.stderr)) if args.json else print
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="stockwire-demo-"))
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        probe = workdir / ".stockwire-demo-probe"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        log(f"stockwire demo: cannot use {workdir} as the work directory: {exc.strerror}")
        return 2
    if (workdir / "ledger.db").exists():
        log(f"stockwire demo: {workdir} already holds a played shift; give a new --workdir")
        return 2
    scenario = Scenario.load(args.scenario)
    options = DemoOptions(workdir=workdir, kill_gateway_in_step=args.kill_gateway_in_step, log=log)
    _stop_on_signals()
    log(f"Stockwire demo in {workdir}")
    try:
        result = _play(scenario, options, args.serve)
    except KeyboardInterrupt:
        log("interrupted: every part of the system was stopped")
        return 130
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


def _play(scenario: Scenario, options: DemoOptions, serve: bool) -> dict[str, Any]:
    log, workdir = options.log, options.workdir
    started = time.monotonic()
    with running(scenario, options) as demo:
        demo.load()
        demo.play()
        demo.wait_channels_settled()
        result = summary_mod.gather(demo.api, demo.receiver, scenario.count_refs, demo.status_url)
        log("")
        log(summary_mod.render(result, summary_mod.alert_details(demo.api)))
        log(f"\nshift played in {time.monotonic() - started:.1f} s")
        log(
            f"logs: {workdir / 'logs'} (ledger, gateway), {workdir}/hs-0N/firmware.log "
            f"(scanners), {workdir / 'broker' / 'mosquitto.log'}"
        )
        if serve:
            _serve(demo, log)
    return result


def _serve(demo: Demo, log: Callable[[str], None]) -> None:
    log(
        "\nThe system keeps running:\n"
        f"  ledger API docs   {demo.ledger_url}/docs\n"
        f"  ledger API        {demo.ledger_url}/v1/...  "
        f"(header 'Authorization: Bearer {demo.admin_token}')\n"
        f"  MQTT broker       127.0.0.1:{demo.broker.port}  "
        f"(scanner logins in {demo.work}/hs-0N/scanner.json)\n"
        f"  gateway status    {demo.status_url}/  (login admin / {demo.status_password}; "
        f"metrics at {demo.status_url}/metrics)\n"
        f"  webshop webhook   {demo.receiver.url('webshop')}  (receives the stock pushes)\n"
        "Ctrl-C stops everything."
    )
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        log("stopping")


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP stop the demo like Ctrl-C: every child process is shut down."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
