"""The trigger's gestures from timed switch edges (trigger.py): debounce, pull, long, double."""

from stockwire_fw.trigger import Gestures


def _run(edges, g=None):
    """Feed (ms, down) edges; the events they make, in order."""
    g = g or Gestures()
    out = []
    for t, down in edges:
        ev = g.edge(t, down)
        if ev:
            out.append(ev)
    return out


def test_a_pull_fires_at_the_press_and_ends_at_the_release():
    g = Gestures()
    assert g.edge(1000, True) == "pull"  # at once: the engine does not wait for a double
    assert g.edge(1120, False) == "up"


def test_bounce_within_25_ms_of_an_accepted_edge_is_ignored():
    bouncy = [(1000, True), (1002, False), (1005, True), (1020, False), (1024, True)]
    bouncy += [(1200, False), (1203, True), (1210, False)]
    assert _run(bouncy) == ["pull", "up"]


def test_an_edge_25_ms_after_the_last_is_accepted():
    assert _run([(1000, True), (1025, False)]) == ["pull", "up"]
    assert _run([(1000, True), (1024, False)]) == ["pull"]


def test_a_repeated_level_is_not_an_edge():
    assert _run([(1000, True), (1100, True), (1200, False), (1300, False)]) == ["pull", "up"]


def test_held_800_ms_is_long_799_is_a_pull():
    assert _run([(1000, True), (1800, False)]) == ["pull", "long"]
    assert _run([(1000, True), (1799, False)]) == ["pull", "up"]


def test_a_second_pull_within_350_ms_of_the_release_is_a_double():
    assert _run([(0, True), (100, False), (450, True), (520, False)]) == [
        "pull",
        "up",
        "double",
        "up",
    ]
    assert _run([(0, True), (100, False), (451, True), (520, False)]) == [
        "pull",
        "up",
        "pull",
        "up",
    ]


def test_no_double_after_a_long_press():
    assert _run([(0, True), (900, False), (1000, True), (1100, False)]) == [
        "pull",
        "long",
        "pull",
        "up",
    ]


def test_a_third_quick_pull_starts_afresh():
    quick = [(0, True), (80, False), (200, True), (280, False), (400, True), (480, False)]
    quick += [(600, True), (680, False)]
    assert _run(quick) == ["pull", "up", "double", "up", "pull", "up", "double", "up"]


def test_a_double_held_long_opens_the_menu_too():
    assert _run([(0, True), (80, False), (200, True), (1000, False)]) == [
        "pull",
        "up",
        "double",
        "long",
    ]


def test_timings_come_from_the_config():
    g = Gestures(debounce_ms=5, long_ms=300, double_ms=100)
    edges = [(0, True), (6, False), (120, True), (420, False), (500, True), (560, False)]
    assert _run(edges, g) == ["pull", "up", "pull", "long", "pull", "up"]


def test_ticks_wrap_around():
    from time import ticks_add

    t0 = ticks_add(0, -50)  # 50 ms before the tick counter wraps
    edges = [(t0, True), (ticks_add(t0, 100), False), (ticks_add(t0, 300), True)]
    assert _run(edges) == ["pull", "up", "double"]
