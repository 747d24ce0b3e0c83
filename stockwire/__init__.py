"""Stockwire: the shared contract, the `stockwire` command line and the one-machine demo."""

__version__ = "0.1.0"
