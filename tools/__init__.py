"""Developer and admin tools: bootstrap, firmware checks, flashing."""
