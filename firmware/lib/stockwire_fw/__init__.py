"""Stockwire scanner firmware: pure, host-testable logic (labels, events, outbox, MQTT, retry,
framing, the scanner app) plus the two hardware-abstraction layers (hal_esp32, hal_unix).

Nothing here imports the CPython packages of the project; everything runs on MicroPython.
"""

VERSION = "0.1.0"
