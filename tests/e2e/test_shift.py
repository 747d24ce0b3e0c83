"""The warehouse shift, end to end: real Mosquitto, firmware on the MicroPython unix port,
the gateway and ledger as processes on real SQLite files, and a real webhook receiver."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stockwire.demo import summary
from stockwire.demo.run import Demo, DemoOptions, running
from stockwire.demo.scenario import Scenario

pytestmark = pytest.mark.e2e

SHARED_SHIFT = Path(__file__).resolve().parents[2] / "stockwire" / "demo" / "data" / "shift.json"


@dataclass
class ShiftRun:
    """What one played shift left behind, read before the system stopped."""

    demo: Demo
    result: dict[str, Any]
    events: dict[str, int]  # scan events the ledger processed, per device
    redelivered_receptions: dict[int, int]  # seq -> times the gateway received it


def play(workdir: Path, kill_gateway_in_step: int | None = None) -> ShiftRun:
    scenario = Scenario.load()
    options = DemoOptions(workdir=workdir, kill_gateway_in_step=kill_gateway_in_step, log=print)
    with running(scenario, options) as demo:
        demo.load()
        demo.play()
        demo.wait_channels_settled()
        return ShiftRun(
            demo=demo,
            result=summary.gather(demo.api, demo.receiver, scenario.count_refs, demo.status_url),
            events={dev: demo.processed(dev) for dev in scenario.devices},
            redelivered_receptions=demo.receptions(
                "hs-02", [seq for _, seq in demo.tally.redelivered]
            ),
        )


def assert_matches_expect(result: dict[str, Any], expect: dict[str, Any]) -> None:
    assert result["on_hand"] == expect["on_hand"]
    assert result["channel_last_push"] == expect["channel_last_push"]
    assert result["refused"] == expect["refused"]
    assert result["reorder_alerts"] == expect["reorder_alerts"]
    assert result["count_variance"] == expect["count_variance"]
    for sku, pct in expect["sell_through_pct"].items():
        assert result["sell_through_pct"][sku] == pct
    gateway = result["gateway"]  # the gateway's status listener agrees: nothing left behind
    assert (gateway["buffer_pending"], gateway["dead_letters_open"]) == (0, 0)
    assert gateway["forwarded"] > 0
    assert gateway["scanners_online"] == 3  # hs-01..hs-03, still running


@pytest.fixture(scope="module")
def shift(tmp_path_factory: pytest.TempPathFactory) -> ShiftRun:
    return play(tmp_path_factory.mktemp("shift"))


def test_the_shift_ends_with_every_expected_figure(shift: ShiftRun) -> None:
    assert_matches_expect(shift.result, Scenario.load().expect)


def test_the_built_in_shift_is_the_shared_scenario() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "cases" / "shift.json"
    if shared.exists():
        assert json.loads(shared.read_text()) == json.loads(SHARED_SHIFT.read_text())


def test_redelivered_scans_reach_the_gateway_twice_and_are_booked_once(
    shift: ShiftRun,
) -> None:
    assert len(shift.redelivered_receptions) == 3
    assert all(n == 2 for n in shift.redelivered_receptions.values())
    # hs-02 read 85 + 96 items: the ledger processed exactly that many events, no more
    assert shift.events["hs-02"] == 85 + 96


def test_the_unknown_barcode_is_refused_and_kept_with_its_raw_code(
    shift: ShiftRun,
) -> None:
    result = shift.result
    assert {"code": "4006381333931", "reason": "unknown barcode"} in result["refused"]


def test_every_channel_push_was_signed_and_versions_only_rose(
    shift: ShiftRun,
) -> None:
    for log in shift.demo.receiver.logs.values():
        assert log.rejected == []
        assert log.stale == 0
        assert log.accepted


def test_killing_the_gateway_mid_shift_loses_and_doubles_nothing(tmp_path: Path) -> None:
    scenario = Scenario.load()
    pick_step = next(
        i for i, s in enumerate(scenario.steps(), 1) if s.who == "hs-02" and s.events >= 85
    )
    run = play(tmp_path, kill_gateway_in_step=pick_step)
    assert run.demo.tally.gateway_kills == 1
    assert_matches_expect(run.result, scenario.expect)
    assert run.events == run.demo.tally.events_expected


def test_stockwire_demo_json_prints_the_summary_on_its_last_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "stockwire"),
            "demo",
            "--json",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary_line = done.stdout.strip().splitlines()[-1]
    assert_matches_expect(json.loads(summary_line), Scenario.load().expect)
    assert "Final stock" in done.stderr  # the tables go to stderr when stdout carries JSON
