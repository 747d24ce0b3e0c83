"""`stockwire demo`: run the whole system on this machine and play the warehouse shift."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stockwire.demo import summary as summary_mod
from stockwire.demo.run import DemoOptions, running
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
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="stockwire-demo-"))
    log = (lambda text: print(text, file=sys.stderr)) if args.json else print
    scenario = Scenario.load(args.scenario)
    options = DemoOptions(workdir=workdir, kill_gateway_in_step=args.kill_gateway_in_step, log=log)
    started = time.monotonic()
    log(f"Stockwire demo in {workdir}")
    with running(scenario, options) as demo:
        demo.load()
        demo.play()
        demo.wait_channels_settled()
        result = summary_mod.gather(demo.api, demo.receiver, scenario.count_refs)
        log("")
        log(summary_mod.render(result))
        log(f"\nshift played in {time.monotonic() - started:.1f} s; logs in {workdir / 'logs'}")
        if args.serve:
            log(f"\nledger API docs: {demo.ledger_url}/docs  (admin token: {demo.admin_token})")
            log("Ctrl-C stops everything.")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0
