"""Stockwire scanner firmware: pure, host-testable logic (labels, events, outbox, MQTT, retry,
framing, the scanner app) plus the two hardware-abstraction layers (hal_esp32, hal_unix).

Nothing here imports the CPython packages of the project; everything runs on MicroPython.
Owns the version and `call()`, the way code that runs seldom stays out of the heap.
"""

import sys

VERSION = "0.1.0"


def call(mod, fn, *args):
    """mod.fn(*args) from a module of this package loaded for this call and dropped after:
    code that runs seldom (the outbox's boot and compaction, a label change, a config
    document, the menu) costs heap only while it runs."""
    name = "stockwire_fw." + mod
    __import__(name)
    try:
        return getattr(sys.modules[name], fn)(*args)
    finally:
        del sys.modules[name]
        delattr(sys.modules["stockwire_fw"], mod)
