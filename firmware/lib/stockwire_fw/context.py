"""The label context on flash: mode, location, reference and a pending one-shot quantity
survive a restart, so the worker does not scan mode and location again after every reboot.

Owns <state_dir>/context (the labels' own text, one a line: `MODE:pick`, `LOC:WH1-A-01`,
`REF:PO-1`, `QTY:1`), written to a temp file and renamed over the old one (old or new, never
torn), only when the context changed. Restoring replays
the lines through the label grammar, so a corrupt or hand-edited file sets only what the
grammar accepts (nothing, for a missing or garbled file: an empty context).
"""

import os


def text(lb):
    return "MODE:%s\nLOC:%s\nREF:%s\nQTY:%d" % (lb.mode, lb.loc, lb.ref, lb.qty)


def restore(lb, path):
    """Set `lb` from the file at `path`; returns the text as it is on flash ("" if none)."""
    try:
        with open(path) as f:
            s = f.read()
    except (OSError, UnicodeError):  # none yet, or garbled bytes
        return ""
    for line in s.split("\n"):
        if line.find(":") < len(line) - 1:  # an empty value was never set
            lb.read("SW:" + line)
    return s if s == text(lb) else ""


def save(lb, path, last):
    """Write `lb`'s context if it is not `last` (the text on flash); returns the text now on
    flash and the bytes written."""
    s = text(lb)
    if s == last:
        return s, 0
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        n = f.write(s)
    os.rename(tmp, path)
    return s, n
