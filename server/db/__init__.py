"""Storage seam: one schema and one Database wrapper that run on SQLite and PostgreSQL alike."""

from server.db.engine import Database
from server.db.schema import metadata

__all__ = ["Database", "metadata"]
