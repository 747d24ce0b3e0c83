"""Entry point: reads the config, picks the HAL, opens the outbox, runs the scanner's tasks.

Board: `main.py` next to `lib/` (on sys.path), config in `/config.json`, pins in
`/board.json`. Unix port:
    micropython -X heapsize=64k firmware/main.py --config /path/scanner.json
Nothing here has logic of its own; see lib/stockwire_fw/.
"""

import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
if _here + "/lib" not in sys.path:
    sys.path.insert(0, _here + "/lib")

import asyncio  # noqa: E402
import json  # noqa: E402


def _arg(name, default):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


def _load(path):
    with open(path) as f:
        return json.load(f)


def _mkdir(path):
    import os

    try:
        os.mkdir(path)
    except OSError:
        pass


def _import(names):
    # Compiling from source needs several times a module's size in heap for a moment; import
    # the big ones first, one at a time, collecting in between (frozen/.mpy needs none of it).
    import gc

    for n in names:
        gc.collect()
        __import__("stockwire_fw." + n)
    gc.collect()


def main():
    cfg = _load(_arg("--config", "/config.json"))
    state = cfg.get("state_dir", "/state")
    _mkdir(state)
    # the outbox's buffers first, while the heap is still in one piece
    _import(("outbox",))
    from stockwire_fw.outbox import Outbox

    outbox = Outbox(
        cfg.get("outbox", state + "/outbox.log"),
        state,
        capacity=cfg.get("outbox_capacity", 512),
        compact_at=cfg.get("compact_at", 32768),
    ).open()
    _import(("mqtt", "app"))
    from stockwire_fw.app import run

    if sys.platform == "esp32":
        from stockwire_fw.hal_esp32 import build

        hal = build(_load(_arg("--board", "/board.json")), cfg)
    else:
        from stockwire_fw.hal_unix import UnixHal

        hal = UnixHal(cfg["feed"])
    asyncio.run(run(cfg, hal, outbox))


main()
