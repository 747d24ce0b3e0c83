"""gateway/labels.py against the label vectors shared with the firmware."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from gateway.labels import LabelState, read

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "labels.json").read_text())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_labels_vectors_pass(case: dict[str, Any]) -> None:
    state = LabelState()
    assert len(case["reads"]) == len(case["out"])
    for code, want in zip(case["reads"], case["out"], strict=True):
        step = read(state, code)
        if "error" in want:
            assert step.error == want["error"], code
            assert step.item is None and step.state == state
        elif "event" in want:
            assert not step.error and step.item is not None, code
            assert asdict(step.item) == want["event"]
            assert step.state.qty == 1
        else:
            assert not step.error and step.item is None, code
            for key, value in want["state"].items():
                assert getattr(step.state, key) == value, (code, key)
        state = step.state
