"""The forwarder speaks HTTPS to the ledger and checks its certificate: a real TLS server on
loopback, with a private CA and a server certificate made by the `openssl` CLI."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.conftest import db_rows, eventually
from tests.gateway.fakeledger import FakeLedger
from tests.support.certs import make_certificates


@pytest.fixture
def private_ca(tmp_path: Path) -> Path:
    """ca.crt (a private CA) and ledger.crt/ledger.key signed by it for 127.0.0.1."""
    return make_certificates(tmp_path / "pki", server="ledger")


@pytest.fixture
def tls_ledger(private_ca: Path) -> Iterator[FakeLedger]:
    fake = FakeLedger()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(private_ca / "ledger.crt", private_ca / "ledger.key")
    fake.server.socket = context.wrap_socket(fake.server.socket, server_side=True)
    fake.url = f"https://127.0.0.1:{fake.server.server_address[1]}"
    fake.start()
    yield fake
    fake.stop()


async def test_with_the_private_ca_the_forwarder_delivers_over_https(
    make_config: Any, gateway_factory: Any, scanners: Any, tls_ledger: FakeLedger,
    private_ca: Path,
) -> None:  # fmt: skip
    config = make_config(tls_ledger, ledger={"ca_file": str(private_ca / "ca.crt")})
    await gateway_factory(config)
    hs = scanners("hs-01")
    for seq in range(1, 11):
        hs.scan(seq)
    await hs.wait_for(lambda s: s.acked("booked") == set(range(1, 11)))
    assert tls_ledger.booked_ids() == [f"hs-01:{n}" for n in range(1, 11)]


async def test_a_ledger_certificate_nobody_vouches_for_is_refused_and_scans_stay_pending(
    make_config: Any, gateway_factory: Any, scanners: Any, tls_ledger: FakeLedger,
    tmp_path: Path,
) -> None:  # fmt: skip
    running = await gateway_factory(make_config(tls_ledger))  # default verification
    hs = scanners("hs-01")
    for seq in range(1, 6):
        hs.scan(seq)
    await hs.wait_for(lambda s: s.acked("stored") == set(range(1, 6)))
    forwarder = running.gw.forwarder
    await eventually(lambda: forwarder.errors >= 2)
    assert "certificate" in forwarder.last_error and "not trusted" in forwarder.last_error
    assert "ca_file" in forwarder.last_error
    assert not tls_ledger.requests, "a request reached a ledger whose certificate failed"
    assert not hs.acked("booked")
    db = tmp_path / "gateway.db"
    assert db_rows(db, "SELECT status, count(*) FROM scans GROUP BY status") == [("pending", 5)]
