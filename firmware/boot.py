"""Board boot: nothing but making sure the state directory exists; main.py does the rest."""

import os

try:
    os.mkdir("/state")
except OSError:
    pass
