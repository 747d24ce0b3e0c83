"""Locations: real bins (WH1-A-01, optional parent) and the virtual ends of every movement."""
