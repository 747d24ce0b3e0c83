"""Counts: cycle counts by reference and location (lines, snapshot, variance) and stocktakes."""
