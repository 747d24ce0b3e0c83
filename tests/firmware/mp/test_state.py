"""The label context on flash (context.py), the config document (remote.py) and the battery's
figures (battery.py)."""

from stockwire_fw.battery import low, mv
from stockwire_fw.context import restore, save
from stockwire_fw.labels import Labels
from stockwire_fw.remote import apply, parse
from stockwire_fw.trigger import Gestures

from util import scratch


def _labels(*reads):
    lb = Labels()
    for r in reads:
        lb.read(r)
    return lb


def test_context_survives_and_is_written_only_when_it_changes():
    path = scratch("ctx") + "/context"
    lb = _labels("SW:MODE:pick", "SW:LOC:WH1-A-01", "SW:REF:SO-9", "SW:QTY:4")
    text, n = save(lb, path, "")
    assert n == len(text) > 0
    assert save(lb, path, text) == (text, 0)  # unchanged: nothing written
    back = Labels()
    assert restore(back, path) == text
    assert (back.mode, back.loc, back.ref, back.qty) == ("pick", "WH1-A-01", "SO-9", 4)


def test_a_first_start_or_a_garbled_file_restores_an_empty_context():
    d = scratch("ctx-bad")
    lb = Labels()
    assert restore(lb, d + "/context") == ""
    for junk in (b"\xff\xfe\x00", b"MODE:fly\nLOC:\nREF:\nQTY:0", b"QTY:5000000"):
        with open(d + "/context", "wb") as f:
            f.write(junk)
        lb = Labels()
        assert restore(lb, d + "/context") == ""  # differs from what is on flash: rewritten
        assert (lb.mode, lb.loc, lb.ref, lb.qty) == ("", "", "", 1)


def test_a_torn_write_leaves_the_old_context():
    path = scratch("ctx-torn") + "/context"
    text, _ = save(_labels("SW:MODE:receive", "SW:LOC:A-1"), path, "")
    with open(path + ".tmp", "w") as f:  # power lost while the new one was written
        f.write("MODE:pi")
    lb = Labels()
    assert restore(lb, path) == text and lb.loc == "A-1"


def test_config_documents():
    doc, bad = parse(b'{"heartbeat_s": 5, "battery_cal": [1.01, -8], "t": 1796312366123}')
    assert bad == "" and doc["heartbeat_s"] == 5
    for payload, key in (
        (b'{"volume": 4}', "volume"),
        (b'{"volume": "2"}', "volume"),
        (b'{"heartbeat_s": 5, "beep": 1}', "beep"),
        (b'{"battery_cal": [3, 0]}', "battery_cal"),
        (b'{"t": 5}', "t"),
        (b"[1]", "json"),
        (b"{", "json"),
    ):
        assert parse(payload) == (None, key), payload


class _Hal:
    def __init__(self):
        self.gestures = Gestures()
        self.said = []

    def signal(self, kind, *args):
        self.said.append((kind,) + args)

    def set_ms(self, ms):
        pass


class _Scanner:
    def __init__(self):
        self.hal = _Hal()
        self.cfg = {}
        self.heartbeat_s = self.resend_s = 60


def test_a_config_document_retimes_the_trigger_at_once():
    sc = _Scanner()
    g = sc.hal.gestures
    assert (g.long, g.double) == (800, 350)
    apply(sc, b'{"long_ms": 1200, "double_ms": 200, "heartbeat_s": 5}', False)
    assert (g.long, g.double, sc.heartbeat_s) == (1200, 200, 5)
    g.edge(1000, True)
    assert g.edge(2100, False) == "up"  # held 1.1 s: no longer a long press
    assert g.edge(2350, True) == "pull"  # 250 ms after: no longer a double
    apply(sc, b'{"long_ms": 5}', False)  # out of range: nothing of it applied
    assert g.long == 1200 and sc.hal.said[-1] == ("error", "bad config: long_ms")


def test_battery_calibration_and_hysteresis():
    assert mv(1950000, 2.0) == 3900
    assert mv(1950000, 2.0, [1.01, -9]) == 3930
    assert low(3399, False, 3400) and not low(3400, False, 3400)
    assert low(3450, True, 3400)  # stays low until above the limit + 100 mV
    assert not low(3501, True, 3400)
