"""Ingest: scan batches from gateways, booked idempotently one event at a time."""
