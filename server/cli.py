"""Command-line sub-commands of this part (placeholder until built)."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    del commands  # registered by the part's own implementation


__all__ = ["add_commands", "argparse"]
