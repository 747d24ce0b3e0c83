"""The scanner's durable counters: boot count and the seq high-water mark.

One small JSON file, replaced by write-to-temp + rename, so a power cut leaves the old or the
new value, never a torn one. Seqs are reserved in blocks: a seq is handed out only when it is
at or below a mark already on flash, so no seq is ever handed out twice.
"""

import json
import os


class SeqMark:
    def __init__(self, path, block=64):
        self.path = path
        self.block = block
        self.hwm = 0
        self.boot = 0
        self.next = 1
        self.written = 0

    def read(self):
        try:
            with open(self.path) as f:
                doc = json.load(f)
            return int(doc.get("hwm", 0)), int(doc.get("boot", 0))
        except (OSError, ValueError, AttributeError, TypeError):
            return 0, 0

    def start(self, floor):
        """Count this boot; continue above the stored mark and above `floor` (the highest
        seq found anywhere on flash)."""
        hwm, boot = self.read()
        self.boot = boot + 1
        self.next = max(hwm, floor) + 1
        self._reserve()

    def _reserve(self):
        self.hwm = self.next + self.block - 1
        data = json.dumps({"hwm": self.hwm, "boot": self.boot})
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.rename(tmp, self.path)
        self.written += len(data)

    def take(self):
        if self.next > self.hwm:
            self._reserve()
        seq = self.next
        self.next += 1
        return seq
