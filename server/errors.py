"""The ledger's exception tree: what a service may raise and how the API answers it."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose. `reason` is short and stable."""

    status_code = 400

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Refused(LedgerError):
    """A booking the rules do not allow (unknown barcode, insufficient stock, ...)."""

    status_code = 422


class NotFound(LedgerError):
    status_code = 404


class Conflict(LedgerError):
    status_code = 409


class SettingsError(LedgerError):
    """Configuration that must not be run with (missing or default secrets, bad URL)."""
