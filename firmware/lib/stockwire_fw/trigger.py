"""The trigger switch's edges -> the worker's gestures (pure: times and levels in, names out).

Owns debounce and the gesture rules; the board's IRQ (hal_esp32.Trigger) only records edges.
`Gestures.edge(t_ms, down)` takes one edge (ticks_ms, the switch now pressed or not) and
returns the event it makes, or None:
  "pull"    a press: the scan engine fires now (no waiting to see whether a double follows)
  "double"  a press starting within `double_ms` of a short pull's release: the second pull of
            a double pull (repeat the last item); the engine does NOT fire for it. The first
            pull was an ordinary "pull": it fired the engine and its read, if any, counts.
            The next press after a double starts afresh (a third quick pull is a "pull").
  "long"    a release after the switch was held >= `long_ms` (it was a "pull" at its press)
  "up"      any other release (the end of a short pull: the menu steps on it)
An edge within `debounce_ms` of the last accepted edge is bounce, and an edge that does not
change the state (two presses in a row) is ignored.
"""

from time import ticks_diff

PULL = "pull"
DOUBLE = "double"
LONG = "long"
UP = "up"


class Gestures:
    def __init__(self, debounce_ms=25, long_ms=800, double_ms=350):
        self.debounce = debounce_ms
        self.long = long_ms
        self.double = double_ms
        self.down = False  # the accepted state of the switch
        self._t = None  # the last accepted edge
        self._press = 0  # when the current (or last) press was accepted
        self._rel = None  # the release of a short pull a double can follow, else None
        self._second = False  # the current press is a double's second pull

    def edge(self, t, down):
        if down == self.down or (self._t is not None and ticks_diff(t, self._t) < self.debounce):
            return None
        self._t = t
        self.down = down
        rel = self._rel
        self._rel = None
        if down:
            self._press = t
            self._second = rel is not None and ticks_diff(t, rel) <= self.double
            return DOUBLE if self._second else PULL
        if ticks_diff(t, self._press) >= self.long:
            return LONG
        if not self._second:  # a double's release opens no new window
            self._rel = t
        return UP
