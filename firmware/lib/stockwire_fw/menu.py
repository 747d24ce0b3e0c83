"""The trigger's mode menu: a long press opens it on the mode set now, each pull steps to the
next mode, a long press picks the mode shown (as its SW:MODE: label would), and a timeout
(None) closes it unchanged. Loaded only while a menu gesture is handled (app._call): the
menu's state is the Scanner's `_menu` (the index into MODES shown, or None when closed).
"""

from .labels import MODES


def step(sc, g):
    """Apply gesture `g` ("long", "pull", "double", "up" or None) to `sc`'s menu."""
    hal = sc.hal
    lb = sc.labels
    m = sc._menu
    if m is None:  # a long press opens it on the mode set now
        m = MODES.index(lb.mode) - 1 if lb.mode else -1
        g = "up"
    if g == "up":
        sc._menu = m = (m + 1) % len(MODES)
        hal.signal("menu", "mode: " + MODES[m])
    elif g != "pull" and g != "double":  # long: pick the mode shown; None: close
        sc._menu = None
        hal.signal("menu", "")
        if g:
            lb.read("SW:MODE:" + MODES[m])
            sc._keep()
            hal.signal("label", lb)
