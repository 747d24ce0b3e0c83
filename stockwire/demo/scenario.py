"""A warehouse shift as data, and what a worker reads at each step to play it.

Owns the translation from a scenario step (who, mode, location, reference, items) into the
barcode reads a worker makes: label reads (docs/protocol.md §1) then item reads, and how many
scan events those reads should produce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Step:
    """One step of the shift: a device and what its worker reads, or a redelivery."""

    who: str
    reads: list[str] = field(default_factory=list)
    events: int = 0
    redeliver_last: int = 0
    note: str = ""
    mode: str = ""
    loc: str = ""
    ref: str = ""

    def describe(self) -> str:
        """What the worker does, in a warehouse's words: "pick at WH1-A-01 (ref PO-1)"."""
        if self.redeliver_last:
            return f"the last {self.redeliver_last} scan messages reach the gateway again"
        where = f"{self.mode} at {self.loc}" + (f" for {self.ref}" if self.ref else "")
        return f"{where}: {self.note}" if self.note else where


def reads_for(step: dict[str, Any]) -> tuple[list[str], int]:
    """Labels then items for one step, and the number of scan events they make."""
    reads = [f"SW:MODE:{step['mode']}", f"SW:LOC:{step['loc']}"]
    if step.get("ref"):
        reads.append(f"SW:REF:{step['ref']}")
    events = 0
    for scan in step.get("scans", []):
        if "qty" in scan:
            reads += [f"SW:QTY:{scan['qty']}", scan["code"]]
            events += 1
        else:
            times = int(scan.get("times", 1))
            reads += [scan["code"]] * times
            events += times
    if step["mode"] == "count" and step.get("ref"):
        reads.append("SW:CLOSE")  # the worker closes the count with the close-count label
        events += 1
    return reads, events


@dataclass(frozen=True)
class Scenario:
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> Scenario:
        if path is None:
            text = resources.files("stockwire.demo").joinpath("data/shift.json").read_text()
        else:
            text = path.read_text()
        return cls(json.loads(text))

    @property
    def catalog(self) -> list[dict[str, Any]]:
        return list(self.raw["catalog"])

    @property
    def expect(self) -> dict[str, Any]:
        return dict(self.raw["expect"])

    @property
    def devices(self) -> list[str]:
        seen: list[str] = []
        for step in self.raw["steps"]:
            if step["who"] not in seen:
                seen.append(step["who"])
        return seen

    @property
    def handhelds(self) -> list[str]:
        return [d for d in self.devices if not d.startswith("dock")]

    @property
    def docks(self) -> list[str]:
        return [d for d in self.devices if d.startswith("dock")]

    @property
    def count_refs(self) -> list[str]:
        return [s["ref"] for s in self.raw["steps"] if s.get("mode") == "count" and s.get("ref")]

    def steps(self) -> list[Step]:
        out = []
        for raw in self.raw["steps"]:
            if "redeliver_last" in raw:
                out.append(
                    Step(raw["who"], redeliver_last=int(raw["redeliver_last"]), note=raw["note"])
                )
                continue
            reads, events = reads_for(raw)
            out.append(
                Step(
                    raw["who"],
                    reads,
                    events,
                    note=raw.get("note", ""),
                    mode=raw["mode"],
                    loc=raw["loc"],
                    ref=raw.get("ref", ""),
                )
            )
        return out
