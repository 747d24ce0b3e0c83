"""Signed webhook pushes to a real receiver on loopback, through the transactional outbox."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.channels.dispatcher import Dispatcher
from server.ingest.service import process_batch
from tests.server.conftest import make_settings
from tests.server.support import ADMIN, Api, Receiver, scan, wait_for

SECRET = "channel-secret-0123456789"
EAN = "5901234123457"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(SECRET).start()
    yield r
    r.stop()


def channel(api: Api, receiver: Receiver, **extra: object) -> None:
    api.post(
        "/v1/channels",
        {
            "name": "webshop",
            "kind": "webhook",
            "url": receiver.url,
            "secret": SECRET,
            "safety_stock": 0,
            "locations": "all",
        }
        | extra,
    )


def test_pushes_are_signed_versions_rise_and_the_last_equals_available(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    channel(api, receiver)
    for n in range(1, 6):
        api.scan("dock", EAN, "receive", "WH1-A-01", qty=n)
    api.scan("hs-1", EAN, "pick", "WH1-A-01", qty=3)
    assert wait_for(lambda: receiver.last().get("PHC-01") == 12)
    assert receiver.rejected == [] and receiver.stale == 0
    versions = [p.doc["version"] for p in receiver.pushes if p.sku == "PHC-01"]
    assert versions == sorted(set(versions))
    last = [p.doc for p in receiver.pushes if p.sku == "PHC-01"][-1]
    assert last | {"version": 0, "changed_at": ""} == {
        "channel": "webshop", "sku": "PHC-01", "available": 12, "on_hand": 12,
        "location": "all", "version": 0, "changed_at": ""}  # fmt: skip
    assert last["changed_at"].endswith("Z")
    [state] = api.get("/v1/channels")["channels"]
    assert wait_for(lambda: api.get("/v1/channels")["channels"][0]["pending"] == 0)
    assert state["last_push_at"] and state["failures"] == 0


def test_a_booking_wakes_the_dispatcher_instead_of_waiting_for_its_poll(db_url: str) -> None:
    """With the periodic poll an hour away, every push can only come from the commit's wake-up.
    (How fast that is, is measured by the benchmarks, not here.)"""
    settings = dataclasses.replace(make_settings(db_url), push_poll_s=3600.0)
    receiver = Receiver(SECRET).start()
    try:
        with TestClient(create_app(settings)) as client:
            api = Api(client)
            api.seed()
            channel(api, receiver)
            assert wait_for(lambda: len(receiver.last()) == 3)
            for n in range(1, 4):
                api.scan("dock", EAN, "receive", "WH1-A-01")
                assert wait_for(lambda n=n: receiver.last().get("PHC-01") == n), receiver.last()
    finally:
        receiver.stop()


def test_safety_stock_and_locations_shape_what_a_channel_sees(api: Api, receiver: Receiver) -> None:
    api.seed()
    channel(api, receiver, safety_stock=2, locations=["WH1-A-02"])
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=10)
    api.scan("dock", EAN, "receive", "WH1-A-02", qty=3)
    assert wait_for(lambda: receiver.last().get("PHC-01") == 1)
    api.scan("hs-1", EAN, "pick", "WH1-A-02", qty=2)
    assert wait_for(lambda: receiver.last().get("PHC-01") == 0)  # never below 0


def test_failed_pushes_are_retried_with_backoff_and_reported(api: Api) -> None:
    receiver = Receiver(SECRET, fail_first=3).start()
    try:
        api.seed()
        channel(api, receiver)
        api.scan("dock", EAN, "receive", "WH1-A-01", qty=7)
        assert wait_for(lambda: receiver.last().get("PHC-01") == 7, timeout=15)
        [state] = api.get("/v1/channels")["channels"]
        assert state["failures"] >= 3
        assert state["last_error"].startswith("HTTP 500")
    finally:
        receiver.stop()


def test_a_429_pauses_the_channel_for_its_retry_after_and_nothing_is_lost(api: Api) -> None:
    receiver = Receiver(SECRET, throttle_first=1).start()
    try:
        api.seed()
        channel(api, receiver)
        assert wait_for(lambda: receiver.last() == {"CLN-200": 0, "PHC-01": 0, "GUM-12": 0})
        [throttled] = receiver.throttled_at
        assert min(p.at for p in receiver.pushes) - throttled >= 0.9  # waited Retry-After: 1
        [state] = api.get("/v1/channels")["channels"]
        assert state["last_error"] == "HTTP 429: rate limited for 1 s"
    finally:
        receiver.stop()


def test_a_crash_between_commit_and_push_loses_nothing(db_url: str, receiver: Receiver) -> None:
    # the first app books but never pushes (its dispatcher is off, as if it died after commit)
    with TestClient(create_app(make_settings(db_url, dispatcher=False))) as client:
        api = Api(client)
        api.seed()
        channel(api, receiver)
        api.scan("dock", EAN, "receive", "WH1-A-01", qty=4)
        [state] = api.get("/v1/channels")["channels"]
        assert state["pending"] == 3 and receiver.pushes == []
    # the next start pushes what the outbox holds
    with TestClient(create_app(make_settings(db_url))) as client:
        api = Api(client)
        assert wait_for(lambda: receiver.last() == {"CLN-200": 0, "PHC-01": 4, "GUM-12": 0})
        assert wait_for(lambda: api.get("/v1/channels")["channels"][0]["pending"] == 0)


def test_a_change_during_a_push_keeps_the_mark_dirty(api: Api, receiver: Receiver) -> None:
    api.seed()
    app = api.client.app
    portal = api.client.portal  # type: ignore[attr-defined]
    portal.call(app.state.dispatcher.stop)  # type: ignore[attr-defined]
    channel(api, receiver)
    db = app.state.db  # type: ignore[attr-defined]
    slow = Dispatcher(db)
    send = slow.client.post
    booked = []

    async def post_then_book(url: str, **kwargs: Any) -> Any:
        response = await send(url, **kwargs)
        if not booked and b'"PHC-01"' in kwargs["content"]:  # a booking during the push
            event = scan("dock", 1, EAN, "receive", "WH1-A-01", qty=5)
            booked.extend(await process_batch(db, "gw-1", [event]))
        return response

    slow.client.post = post_then_book  # type: ignore[method-assign]
    portal.call(slow.run_once)
    assert receiver.last()["PHC-01"] == 0
    assert api.get("/v1/channels")["channels"][0]["pending"] == 1  # the newer change is kept
    portal.call(slow.run_once)
    assert receiver.last()["PHC-01"] == 5
    assert api.get("/v1/channels")["channels"][0]["pending"] == 0
    portal.call(slow.stop)


def test_an_allocation_share_and_a_skus_override_shape_what_one_channel_sees(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    channel(api, receiver, allocation_pct=50, safety_stock=1)
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=11)
    assert wait_for(lambda: receiver.last().get("PHC-01") == 5)  # ⌊(11 − 1) × 50 %⌋
    put = api.client.put
    body = {"safety_stock": 0, "allocation_pct": 100, "max_qty": 8}
    response = put("/v1/channels/webshop/skus/PHC-01", json=body, headers=ADMIN)
    assert response.json() == {"sku": "PHC-01"} | body
    assert wait_for(lambda: receiver.last().get("PHC-01") == 8)  # all 11, capped at 8
    assert api.get("/v1/channels/webshop/skus") == {"overrides": [{"sku": "PHC-01"} | body]}
    api.client.delete("/v1/channels/webshop/skus/PHC-01", headers=ADMIN)
    assert wait_for(lambda: receiver.last().get("PHC-01") == 5)  # the channel's share again
    assert api.get("/v1/channels/webshop/skus") == {"overrides": []}
    bad = put("/v1/channels/webshop/skus/PHC-01", json={"allocation_pct": 150}, headers=ADMIN)
    assert bad.status_code == 422
    unknown = put("/v1/channels/nope/skus/PHC-01", json={"max_qty": 1}, headers=ADMIN)
    assert unknown.status_code == 404 and "unknown channel" in unknown.text


def test_a_channel_scoped_to_a_warehouse_sells_the_stock_of_every_bin_in_it(
    api: Api, receiver: Receiver
) -> None:
    api.seed()
    api.post("/v1/locations", {"code": "SITE1", "kind": "site"})
    api.post("/v1/locations", {"code": "WH1", "kind": "warehouse", "parent": "SITE1"})
    api.post("/v1/locations", {"code": "WH1-A", "kind": "zone", "parent": "WH1"})
    for code in ("WH1-A-01", "WH1-A-02"):
        api.post("/v1/locations", {"code": code, "parent": "WH1-A"})  # the seeded bins, moved
    channel(api, receiver, locations=["WH1"])
    api.scan("dock", EAN, "receive", "WH1-A-01", qty=10)
    api.scan("dock", EAN, "receive", "WH1-A-02", qty=5)
    api.scan("dock", EAN, "receive", "WH2-A-01", qty=7)  # another warehouse: not this channel's
    assert wait_for(lambda: receiver.last().get("PHC-01") == 15)
    order = {"order": "SO-1", "channel": "webshop", "lines": [{"sku": "PHC-01", "qty": 12}]}
    api.post("/v1/reservations", order)  # held in WH1's bins, never at WH2-A-01
    assert wait_for(lambda: receiver.last().get("PHC-01") == 3)


def test_a_channel_body_with_a_misspelt_field_or_a_wrong_type_is_refused(
    api: Api, receiver: Receiver
) -> None:
    base = {"name": "webshop", "url": receiver.url, "secret": SECRET}
    for extra, words in (
        ({"alocation_pct": 10}, "Extra inputs are not permitted"),
        ({"allocation_pct": "50"}, "Input should be a valid integer"),
        ({"allocation_pct": True}, "Input should be a valid integer"),
        ({"locations": []}, "at least 1 item"),
    ):
        refused = api.post("/v1/channels", base | extra, status=422)
        assert words in str(refused), (extra, refused)
    leaked = api.post("/v1/channels", {"name": "x", "secret": "my-very-secret-value-XYZ"}, 422)
    assert "my-very-secret-value-XYZ" not in str(leaked)
    channel(api, receiver)
    tokens = {"access_token": "a" * 20, "refresh_token": "b" * 20}
    no = api.client.put("/v1/channels/webshop/tokens", json=tokens, headers=ADMIN)
    assert no.status_code == 422 and "takes no tokens" in no.text
