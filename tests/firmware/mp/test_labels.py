"""The label grammar against the shared vectors (tests/vectors/labels.json)."""

import json

from stockwire_fw.labels import Labels, split_aim

from util import ROOT


def _state(lb):
    return {"mode": lb.mode, "loc": lb.loc, "ref": lb.ref, "qty": lb.qty}


def test_vectors():
    with open(ROOT + "/tests/vectors/labels.json") as f:
        cases = json.load(f)["cases"]
    assert len(cases) >= 10
    for case in cases:
        lb = Labels()
        for read, want in zip(case["reads"], case["out"]):
            before = _state(lb)
            kind, val = lb.read(read)
            where = "%s: %r" % (case["name"], read)
            assert kind in want, where + " gave %s %r, want %r" % (kind, val, want)
            if kind == "state":
                st = _state(lb)
                for k, v in want["state"].items():
                    assert st[k] == v, where + " state %r" % (st,)
            elif kind == "event":
                mode, loc, ref, qty = val
                sym = split_aim(read)[0]
                ev = {"mode": mode, "loc": loc, "ref": ref, "qty": qty, "code": read, "sym": sym}
                assert ev == want["event"], where + " event %r" % (ev,)
                assert lb.qty == 1, where
            else:
                assert val == want["error"], where + " error %r" % (val,)
                assert _state(lb) == before, where + " state changed on error"
