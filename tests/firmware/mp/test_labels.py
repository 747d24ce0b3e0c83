"""The label grammar against the shared vectors (tests/vectors/labels.json)."""

import json

from stockwire_fw.labels import Labels

from util import ROOT


def test_vectors():
    with open(ROOT + "/tests/vectors/labels.json") as f:
        cases = json.load(f)["cases"]
    assert len(cases) >= 10
    for case in cases:
        lb = Labels()
        for read, want in zip(case["reads"], case["out"]):
            before = lb.state()
            kind, val = lb.read(read)
            where = "%s: %r" % (case["name"], read)
            assert kind in want, where + " gave %s %r, want %r" % (kind, val, want)
            if kind == "state":
                st = lb.state()
                for k, v in want["state"].items():
                    assert st[k] == v, where + " state %r" % (st,)
            elif kind == "event":
                assert val == want["event"], where + " event %r" % (val,)
                assert lb.qty == 1, where
            else:
                assert val == want["error"], where + " error %r" % (val,)
                assert lb.state() == before, where + " state changed on error"
