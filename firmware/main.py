"""Entry point: reads the config, picks the HAL, opens the outbox, runs the scanner's tasks.

Board: `main.py` next to `lib/` (on sys.path), config in `/config.json`, pins in
`/board.json`. Unix port, from a built tree (stockwire.firmware.build; .mpy modules):
    micropython -X heapsize=72k main.py --config /path/scanner.json
Nothing here has logic of its own; see lib/stockwire_fw/.
"""

import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
if _here + "/lib" not in sys.path:
    sys.path.insert(0, _here + "/lib")

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402


def _arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


def _load(path):
    with open(path) as f:
        return json.load(f)


def main():
    path = _arg("--config", "/config.json")
    try:  # a config it cannot use: one line and exit 2 (`stockwire flash` checks a board's)
        cfg = _load(path)
        for key in (
            ("dev", "site", "mqtt") if sys.platform == "esp32" else ("dev", "site", "mqtt", "feed")
        ):
            cfg[key]  # a missing one: the KeyError names it
    except (OSError, ValueError, KeyError, TypeError) as e:
        print("CONFIG-ERROR %s: %r" % (path, e))
        sys.exit(2)
    state = cfg.get("state_dir", "/state")
    try:
        os.mkdir(state)
    except OSError:
        pass
    # the outbox and the label context first: their boot-time code (outbox_log, context) is
    # loaded, run and dropped while the heap is empty, so its holes are filled by the code
    # that stays; then all the code (the
    # lazily loaded parts of asyncio too), so what the scanner allocates while it runs has the
    # rest of the heap in one piece
    from stockwire_fw.outbox import Outbox

    outbox = Outbox(
        cfg.get("outbox", state + "/outbox.log"),
        state,
        cfg.get("outbox_capacity", 512),
        cfg.get("compact_at", 32768),
    ).open()
    from stockwire_fw import call
    from stockwire_fw.labels import Labels

    labels = Labels()  # the label context on flash, the same way
    try:
        context = labels, call("context", "restore", labels, state + "/context")
    except MemoryError:
        context = None  # the scanner tries again
    gc.collect()
    from stockwire_fw.app import run

    for name in ("Event", "Lock", "wait_for_ms", "gather", "open_connection", "StreamReader"):
        getattr(asyncio, name)
    if sys.platform == "esp32":
        from stockwire_fw.hal_esp32 import build
    else:
        from stockwire_fw.hal_unix import UnixHal
    gc.collect()
    if sys.platform == "esp32":
        hal = build(_load(_arg("--board", "/board.json")), cfg)
    else:
        hal = UnixHal(cfg["feed"], cfg=cfg)
    gc.collect()
    asyncio.run(run(cfg, hal, outbox, context))


main()
