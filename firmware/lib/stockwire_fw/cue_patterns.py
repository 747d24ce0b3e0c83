"""Each cue's pattern: what the worker hears, sees and feels (cues.py names the cue for a
signal). Pure data; hal_esp32 plays it, tests/firmware/mp/test_cues.py checks that the cues
can be told apart. Only the board loads it (the unix port prints cue names, not patterns).

A pattern is (colour, tones, buzz):
  colour  the RGB LED while the cue plays: bit 4 red, 2 green, 1 blue (6 = yellow,
          5 = magenta); 0 leaves the LED as it is
  tones   (Hz, ms, Hz, ms, ...) on the buzzer, 0 Hz a pause
  buzz    (on, ms, on, ms, ...) on the vibration motor, 1 = running
Every cue has its own rhythm (the tones' durations), so none needs the pitch to be told apart;
refused is one long low tone with one long buzz, battery low three slow beeps and no buzz,
no-read (a pull that read nothing) one short buzz and no tone.
"""

CUES = {
    "taken": (2, (2700, 60), ()),
    "booked": (2, (2700, 60, 0, 40, 3200, 60), ()),
    "label": (0, (2000, 30), ()),
    "refused": (4, (700, 400), (1, 400)),
    "bad-read": (4, (700, 80, 0, 80, 700, 80), (1, 80, 0, 80, 1, 80)),
    "outbox-full": (5, (700, 400, 0, 100, 700, 400), (1, 400, 0, 100, 1, 400)),
    "battery-low": (6, (1000, 150, 0, 300, 1000, 150, 0, 300, 1000, 150), ()),
    "offline": (1, (1200, 60, 0, 20, 800, 160), ()),
    "online": (2, (800, 60, 0, 20, 1200, 60), ()),
    "menu": (1, (1500, 20), (1, 30)),
    "config": (0, (2000, 30, 0, 30, 2000, 30), ()),
    "no-read": (0, (), (1, 60)),  # felt, not heard: the pull's read window ended empty
}
