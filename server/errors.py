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


# connection, transaction rollback (deadlock, serialization), resources, operator, system
_PG_OUTAGE_CLASSES = ("08", "40", "53", "57", "58")
_SQLITE_OUTAGE_WORDS = ("locked", "busy", "unable to open", "disk i/o", "readonly")


def is_outage(exc: BaseException) -> bool:
    """The database is unavailable (locked past the busy timeout, connection lost, shutting
    down, a deadlock): the whole request may be retried later. A data error (an integer out of
    range, a value the column refuses) is NOT an outage: the same input fails the same way."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError

    if isinstance(exc, DisconnectionError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _PG_OUTAGE_CLASSES
    if type(exc.orig).__module__.startswith("sqlite3") or "sqlite" in type(exc.orig).__module__:
        text = str(exc.orig).lower()
        return any(word in text for word in _SQLITE_OUTAGE_WORDS)
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def describe(exc: BaseException) -> str:
    """'<class>: <message>' of an unexpected failure, the driver's own error for a database
    one (without SQLAlchemy's statement and parameters)."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        exc = orig
        if type(exc).__module__.startswith("sqlalchemy") and exc.__cause__ is not None:
            exc = exc.__cause__  # the async adapters wrap the driver's own (asyncpg) error
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
