"""Tiny test runner for the firmware's tests on the MicroPython unix port.

Runs every `test_*` function of every `test_*.py` module in this directory (or those named on
the command line) against firmware/lib, or against the compiled modules of a built tree when
STOCKWIRE_FW_LIB names its lib/ directory; a coroutine is run with asyncio. Prints one line per
failure and finally exactly `N passed, M failed`. Exit status 1 if anything failed.
"""

import os
import sys

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
ROOT = HERE + "/../../.."
sys.path.insert(0, HERE)
# the modules under test: firmware/lib, or a built tree's lib/ (.mpy) named by STOCKWIRE_FW_LIB
sys.path.insert(0, os.getenv("STOCKWIRE_FW_LIB") or ROOT + "/firmware/lib")

import asyncio  # noqa: E402
import gc  # noqa: E402


def main():
    names = sys.argv[1:] or sorted(
        n[:-3] for n in os.listdir(HERE) if n.startswith("test_") and n.endswith(".py")
    )
    passed = failed = 0
    for name in names:
        mod = __import__(name)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            try:
                r = fn()
                if hasattr(r, "send"):
                    asyncio.run(r)
                passed += 1
            except Exception as e:
                failed += 1
                print("FAIL %s.%s: %r" % (name, attr, e))
                sys.print_exception(e)
            asyncio.new_event_loop()
            gc.collect()
        del sys.modules[name]
        mod = fn = None
        for k in list(sys.modules):
            if k.startswith("stockwire_fw."):
                del sys.modules[k]
        gc.collect()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
