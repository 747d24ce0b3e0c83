"""Alembic migration scripts of the ledger's schema (run by server.db.migrate)."""
