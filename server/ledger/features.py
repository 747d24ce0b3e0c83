"""Registers the ledger features' commands under `stockwire ledger`: stock, quarantine,
count, reserve/reservation and move. Each lives beside its feature's service and routes."""

from __future__ import annotations

from typing import Any


def add_commands(ledger_commands: Any) -> None:
    from server.counts.cli import add_commands as add_counts
    from server.ledger.stock_cli import add_commands as add_stock
    from server.movements.cli import add_commands as add_move
    from server.quarantine.cli import add_commands as add_quarantine
    from server.reservations.cli import add_commands as add_reservations

    for add in (add_stock, add_move, add_reservations, add_counts, add_quarantine):
        add(ledger_commands)
