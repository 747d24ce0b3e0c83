"""The gateway's persistent MQTT session against other logins, on the broker config we ship."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


async def test_a_scanner_login_using_the_gateways_client_id_cannot_take_over_its_session(
    make_config: Any, gateway_factory: Any, scanners: Any
) -> None:
    config = make_config()
    running = await gateway_factory(config)
    intake = running.gw.intake
    hs = scanners("hs-01")
    hs.scan(1)
    await hs.wait_for(lambda s: s.acked("stored") == {1})
    # someone holding hs-02's credentials connects as the gateway, with a persistent session,
    # and keeps reconnecting whenever it is thrown out
    connacks: list[str] = []
    up = threading.Event()

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        connacks.append(str(reason))
        up.set()

    thief = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config.client_id,
                        clean_session=False)  # fmt: skip
    thief.username_pw_set("hs-02", "hs-02-secret")
    thief.reconnect_delay_set(1, 1)
    thief.on_connect = on_connect
    thief.connect("127.0.0.1", config.mqtt.port)
    thief.loop_start()
    try:
        assert await asyncio.to_thread(up.wait, 5)
        for seq in range(2, 101):
            hs.scan(seq)
            if seq % 20 == 0:
                await asyncio.sleep(0.5)  # 2.5 s: room for a takeover and a reconnect or two
        await hs.wait_for(lambda s: s.acked("stored") == set(range(1, 101)))
        assert intake.connects == 1, "the gateway was thrown off the broker"
        assert intake.connected.is_set()
        assert connacks == ["Success"] and thief.is_connected()  # it only ever had hs-02's id
    finally:
        thief.loop_stop()
        thief.disconnect()
