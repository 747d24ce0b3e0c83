"""The worker's cues (cues.py, cue_patterns.py) and the SSD1306 driver (ssd1306.py, with a
recording I2C)."""

from stockwire_fw.cue_patterns import CUES
from stockwire_fw.cues import cue
from stockwire_fw.ssd1306 import init_cmds, open_screen


def _every(t, start):
    """t[start::2] (MicroPython slices have no step)."""
    return tuple(t[i] for i in range(start, len(t), 2))


def _rhythm(name):
    return _every(CUES[name][1], 1)


def test_every_cue_has_its_own_rhythm():
    names = sorted(CUES)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert _rhythm(a) != _rhythm(b), a + " and " + b + " sound alike"


def test_refused_and_battery_low_are_unmistakable():
    refused, low = CUES["refused"], CUES["battery-low"]
    assert _rhythm("refused") == (400,) and len(_rhythm("battery-low")) == 5
    assert refused[2] and not low[2]  # only a refusal buzzes the hand
    assert refused[0] != low[0]  # red, yellow


def test_patterns_are_well_formed():
    for name, (colour, tones, buzz) in CUES.items():
        assert 0 <= colour < 8, name
        assert len(tones) % 2 == 0 and len(buzz) % 2 == 0, name
        assert all(0 < ms <= 400 for ms in _every(tones, 1) + _every(buzz, 1)), name
        assert all(hz == 0 or 400 <= hz <= 4000 for hz in _every(tones, 0)), name


def test_outcomes_map_to_cues():
    r = ((1, 1),)
    assert cue("taken", (1,)) == "taken"
    assert cue("booked", (r, "")) == "booked"
    assert cue("refused", (r, "unknown location")) == "refused"
    assert cue("error", ("scan a mode label first",)) == "refused"
    assert cue("error", ("nothing to repeat",)) == "refused"
    assert cue("error", ("read too long",)) == "bad-read"
    assert cue("error", ("unreadable code",)) == "bad-read"
    assert cue("error", ("outbox full",)) == "outbox-full"
    assert cue("battery", (3300, True)) == "battery-low"
    assert cue("battery", (3600, False)) is None
    assert cue("connected", ()) == "online" and cue("offline", ("x",)) == "offline"
    assert cue("menu", ("mode: pick",)) == "menu" and cue("menu", ("",)) is None
    assert cue("config", (["heartbeat_s"],)) == "config"
    assert cue("no-read", ()) == "no-read" and not CUES["no-read"][1]  # felt, not heard
    for kind in ("stored", "retry", "timeout"):
        assert cue(kind, (r, "")) is None


class FakeI2C:
    """Records every write as (addr, bytes); `absent` answers nothing, like an empty bus."""

    def __init__(self, absent=False):
        self.writes = []
        self.absent = absent

    def writeto(self, addr, data):
        if self.absent:
            raise OSError(19)  # ENODEV, as machine.I2C raises for a missing device
        self.writes.append((addr, bytes(data)))

    def writevto(self, addr, parts):
        self.writeto(addr, b"".join(parts))


def test_ssd1306_init_sequence():
    bus = FakeI2C()
    scr = open_screen(bus, 32)
    assert scr is not None
    addr, data = bus.writes[0]
    assert addr == 0x3C and data[0] == 0x00  # a command stream
    cmds = data[1:]
    assert cmds[0] == 0xAE and cmds[-1] == 0xAF  # off first, on last
    assert cmds[cmds.index(0xA8) + 1] == 31  # multiplex: 32 rows
    assert cmds[cmds.index(0x8D) + 1] == 0x14  # charge pump on
    assert cmds[cmds.index(0xDA) + 1] == 0x02
    assert cmds[cmds.index(0x20) + 1] == 0x00  # horizontal addressing
    tall = init_cmds(64)
    assert tall[tall.index(0xA8) + 1] == 63 and tall[tall.index(0xDA) + 1] == 0x12


def test_ssd1306_uploads_the_framebuffer():
    bus = FakeI2C()
    scr = open_screen(bus, 32)
    bus.writes.clear()
    scr.text("refused: no lot")
    (a1, window), (a2, data) = bus.writes
    assert a1 == a2 == 0x3C
    assert window == bytes((0x00, 0x21, 0, 127, 0x22, 0, 3))  # columns 0-127, pages 0-3
    assert data[0] == 0x40 and len(data) == 1 + 128 * 32 // 8
    assert any(data[1 : 1 + 128]) and not any(data[1 + 128 :])  # one line of text, page 0
    scr.text("")
    assert not any(bus.writes[-1][1][1:])


def test_an_absent_display_is_no_screen():
    assert open_screen(FakeI2C(absent=True)) is None
