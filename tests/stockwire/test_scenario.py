"""The shift is played only through what a worker reads: labels, then items."""

from __future__ import annotations

from stockwire.demo.scenario import Scenario, reads_for


def test_a_step_becomes_mode_location_reference_and_quantity_labels_then_items() -> None:
    reads, events = reads_for(
        {
            "who": "hs-01",
            "mode": "receive",
            "ref": "PO-1001",
            "loc": "WH1-A-02",
            "scans": [{"code": "5901234123457", "qty": 100}, {"code": "X1", "times": 2}],
        }
    )
    assert reads == [
        "SW:MODE:receive",
        "SW:LOC:WH1-A-02",
        "SW:REF:PO-1001",
        "SW:QTY:100",
        "5901234123457",
        "X1",
        "X1",
    ]
    assert events == 3


def test_a_count_step_ends_with_the_close_count_label() -> None:
    reads, events = reads_for(
        {"mode": "count", "loc": "B", "ref": "CC-1", "scans": [{"code": "1", "qty": 38}]}
    )
    assert reads[-1] == "SW:CLOSE"
    assert events == 2


def test_the_built_in_shift_has_three_handhelds_and_a_dock() -> None:
    scenario = Scenario.load()
    assert scenario.handhelds == ["hs-01", "hs-02", "hs-03"]
    assert scenario.docks == ["dock-1"]
    assert scenario.count_refs == ["CC-1"]
    assert sum(s.events for s in scenario.steps() if s.who == "hs-02") == 85 + 96
