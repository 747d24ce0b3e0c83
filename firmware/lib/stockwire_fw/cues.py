"""Which cue the worker gets for each HAL signal: `cue(kind, args)` -> a name of
cue_patterns.CUES, or None (silent). Pure; hal_esp32 plays the pattern, hal_unix prints
"CUE <name>".
"""


def cue(kind, args):
    """The cue's name for hal.signal(kind, *args), or None (stored, retry, timeout: silent)."""
    if kind == "error":
        r = args[0]
        if r == "outbox full":
            return "outbox-full"
        return "bad-read" if r == "read too long" or r == "unreadable code" else "refused"
    if kind == "battery":
        return "battery-low" if args[1] else None
    if kind == "menu":
        return "menu" if args[0] else None
    if kind == "connected":
        return "online"
    # a kind that is its cue's name (a word of this line)
    return kind if kind in " taken booked refused label config offline no-read " else None
