"""The scan engine's command reply (02 00 status L data CRC) never reaches a scan."""

from stockwire_fw.engine_reply import ReplyFilter
from stockwire_fw.framing import Framer

REPLY = b"\x02\x00\x00\x01\x00\x33\x31"  # the GM65's answer to the trigger command
READ = b"]C10109501101530003\x1d10LOT1"


class Engine:
    """The filter in front of a framer, as ScanEngine wires them."""

    def __init__(self):
        self.framer = Framer()
        self.reply = ReplyFilter()

    def expect_reply(self):
        self.reply.expect()

    def feed(self, data, out):
        return self.reply.feed(memoryview(data), self.framer, out)

    def reset(self):
        self.framer.reset()


def triggered():
    f = Engine()
    f.expect_reply()
    return f


def test_reply_dropped_whole_before_the_read():
    f = triggered()
    out = []
    f.feed(REPLY, out)
    assert out == []
    f.feed(READ + b"\r", out)
    assert out == [READ]


def test_reply_and_read_in_one_chunk():
    f = triggered()
    assert f.feed(REPLY + READ + b"\r", []) == [READ]


def test_reply_split_byte_by_byte():
    f = triggered()
    out = []
    for b in REPLY + READ + b"\r":
        f.feed(bytes((b,)), out)
    assert out == [READ]


def test_reply_split_mid_header():
    for cut in (1, 2, 3, 4, 5):
        f = triggered()
        out = []
        f.feed(REPLY[:cut], out)
        f.feed(REPLY[cut:] + READ[:5], out)
        f.feed(READ[5:] + b"\r", out)
        assert out == [READ], cut


def test_replies_without_data_or_with_several_data_bytes():
    empty = b"\x02\x00\x05\x00\xaa\xbb"  # L = 0: CRC only
    zones = b"\x02\x00\x00\x03\x1a\x00\x0d\xcc\xdd"  # L = 3, a CR among the data
    for reply in (empty, zones):
        f = triggered()
        assert f.feed(reply + READ + b"\r", []) == [READ]


def test_nothing_is_dropped_without_a_trigger():
    f = Engine()
    odd = b"\x02\x00\x00\x01\x00\x33\x31" + READ
    assert f.feed(odd + b"\r" + READ + b"\r", []) == [odd, READ]


def test_a_read_without_a_reply_ends_the_expectation():
    f = triggered()
    out = []
    f.feed(READ + b"\r", out)  # the engine did not answer: the read is kept whole
    odd = b"\x02\x00\x00\x01\x00XYZ"  # a later read that merely starts like a reply
    f.feed(odd + b"\r", out)
    assert out == [READ, odd]


def test_a_read_starting_with_stx_after_a_trigger_is_kept():
    f = triggered()
    stx = b"\x02ABC"
    assert f.feed(stx + b"\r", []) == [stx]


def test_two_triggers_two_replies():
    f = triggered()
    f.expect_reply()
    assert f.feed(REPLY + REPLY + READ + b"\r", []) == [READ]


def test_reply_between_two_reads():
    f = Engine()
    out = []
    f.feed(READ[:6], out)
    f.expect_reply()  # trigger pulled again while a read is arriving
    f.feed(READ[6:] + b"\r" + REPLY + b"5901234123457\r", out)
    assert out == [READ, b"5901234123457"]


def test_reset_keeps_dropping_a_reply_in_progress():
    f = triggered()
    out = []
    f.feed(REPLY[:4], out)
    f.reset()  # a read was cancelled: the reply's last bytes are still coming
    f.feed(REPLY[4:] + READ + b"\r", out)
    assert out == [READ]
