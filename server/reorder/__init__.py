"""Reorder points: rules per SKU and per location, alerts, and the draft orders they raise."""
