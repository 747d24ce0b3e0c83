"""Quarantine: every refused event, kept raw for an admin to fix and replay."""
