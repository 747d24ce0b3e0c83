"""Movements: clerks booking them by hand (receive, pick, return, transfer, adjustment) and
the journal of every movement with its clocks and flags."""
