"""`python -m gateway gateway run --config gateway.toml` (also `python -m gateway run ...`)."""

import sys

from gateway.cli import main

argv = sys.argv[1:]
if argv[:1] != ["gateway"]:
    argv = ["gateway", *argv]
sys.exit(main(argv))
