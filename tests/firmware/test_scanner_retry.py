"""The real firmware keeps a scan the gateway answered `retry` (its buffer is full)."""

from __future__ import annotations

from stockwire.wire import decode_scan


def test_a_scan_acked_retry_stays_in_the_outbox_and_is_sent_again(make_scanner, gateway):
    s = make_scanner()
    s.start()
    s.expect("CONNECTED")
    s.read("SW:MODE:receive", "]C0SW:LOC:WH1-A-01")
    for _ in range(2):
        s.expect("LABEL")
    s.read("5901234123457")
    seq = int(s.expect("TAKEN").split()[1])
    assert decode_scan(gateway.next_scan()[1]).seq == seq
    gateway.ack("hs-01", [seq], "retry", "gateway full")
    assert s.expect("RETRY") == f"RETRY ([[{seq}, {seq}]], 'gateway full')"
    s.kill9()
    assert s.start().endswith("outbox=1"), "a scan the gateway did not take was dropped"
    s.expect("CONNECTED")
    assert decode_scan(gateway.next_scan()[1]).seq == seq
    gateway.ack("hs-01", [seq], "stored")
    s.expect("STORED")
