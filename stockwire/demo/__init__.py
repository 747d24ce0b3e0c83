"""The one-machine demo: the whole system playing a warehouse shift."""
