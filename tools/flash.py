"""Flash the scanner firmware and one device's config onto an ESP32: `stockwire flash`.

Usage: python -m tools.flash --port /dev/ttyUSB0 [--device hs-07] [--config hs-07.json]
[--dry-run]. The same command as `stockwire flash` (stockwire/flash_cli.py,
stockwire/flash.py), kept for scripts that call it by this name.
"""

from __future__ import annotations

import sys

from stockwire.flash_cli import main

if __name__ == "__main__":
    sys.exit(main())
