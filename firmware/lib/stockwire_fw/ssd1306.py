"""A minimal SSD1306 OLED driver (128x32 or 128x64, I2C): init, and a framebuf upload.

Owns the display's command bytes (SSD1306 datasheet §9-10 and its application note's
power-on sequence, internal charge pump) and nothing else: text is drawn with MicroPython's
built-in framebuf. Handed a machine.I2C (anything with writeto/writevto). `open_screen()`
probes the display and returns None when it does not answer (no OLED fitted: OSError), so the
scanner runs without one. Only hal_esp32 imports it (and its test on the unix port).
Every I2C write starts with the control byte: 0x00 commands follow, 0x40 display data follows.
"""

import framebuf
from micropython import const

ADDR = const(0x3C)
WIDTH = const(128)


def init_cmds(height):
    """The power-on command bytes for a 128 x `height` panel (32 or 64 rows)."""
    return bytes(
        (
            0xAE,  # display off
            0xD5, 0x80,  # clock: divide 1, oscillator default
            0xA8, height - 1,  # multiplex ratio: the panel's rows
            0xD3, 0x00,  # display offset 0
            0x40,  # start line 0
            0x8D, 0x14,  # charge pump on (no external VCC)
            0x20, 0x00,  # horizontal addressing: one upload fills every page
            0xA1,  # segment remap: column 127 is SEG0
            0xC8,  # COM scan from COM[N-1]: the image the right way up
            0xDA, 0x02 if height == 32 else 0x12,  # COM pins: sequential (32), alternative (64)
            0x81, 0x8F,  # contrast
            0xD9, 0xF1,  # pre-charge: phase 1 one clock, phase 2 fifteen
            0xDB, 0x40,  # VCOMH deselect level
            0xA4,  # show the RAM
            0xA6,  # not inverted
            0xAF,  # display on
        )
    )  # fmt: skip


class SSD1306:
    def __init__(self, i2c, height=32, addr=ADDR):
        self.i2c = i2c
        self.addr = addr
        self.height = height
        self.buf = bytearray(WIDTH * height // 8)  # page-major, one byte = 8 rows of a column
        self.fb = framebuf.FrameBuffer(self.buf, WIDTH, height, framebuf.MONO_VLSB)
        self._cmd(init_cmds(height))  # OSError if nothing answers at addr

    def _cmd(self, cmds):
        self.i2c.writeto(self.addr, b"\x00" + cmds)

    def show(self):
        """Upload the whole framebuffer: the column and page window, then the data."""
        self._cmd(bytes((0x21, 0, WIDTH - 1, 0x22, 0, self.height // 8 - 1)))
        self.i2c.writevto(self.addr, (b"\x40", self.buf))

    def text(self, msg):
        """`msg` in 8x8 characters, 16 a line, as many lines as the panel has; "" blanks it."""
        fb = self.fb
        fb.fill(0)
        for i in range(self.height // 8):
            fb.text(msg[i * 16 : i * 16 + 16], 0, i * 8, 1)
        self.show()


def open_screen(i2c, height=32):
    """An SSD1306 on `i2c`, or None when no display answers."""
    try:
        return SSD1306(i2c, height)
    except OSError:
        return None
