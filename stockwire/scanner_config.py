"""A scanner's config.json, checked before it goes onto a board.

Owns the list of every key the firmware reads (firmware/main.py, stockwire_fw/app.py, mqtt
settings, hal_esp32.py; docs/firmware.md, "Provisioning"), with its type and range.
`problems(doc)` returns what is wrong with a flashing config, one line per key; `stockwire
flash` refuses a config with any, so a typo or a value out of range is caught on the PC
rather than on a scanner that errs at every pull. The keys the gateway can also set remotely
(config/<dev>) are checked by the gateway's own rule (gateway.config.scanner_value_error).
"""

from __future__ import annotations

from typing import Any

from gateway.config import SCANNER_KEYS, scanner_value_error, shown
from stockwire.wire import valid_name

# whole numbers the firmware reads at start: (lowest, highest)
_WHOLE: dict[str, tuple[int, int]] = {
    "debounce_ms": (1, 200),
    "read_ms": (100, 30_000),
    "menu_s": (1, 600),
    "outbox_capacity": (8, 4096),
    "compact_at": (4096, 1 << 20),
    "wdt_s": (0, 3600),
}
_TEXT = ("state_dir", "outbox")  # paths on the board's flash
_REMOTE = (*SCANNER_KEYS, "battery_cal")
_MQTT_WHOLE: dict[str, tuple[int, int]] = {
    "port": (1, 65535),
    "keepalive": (0, 65535),
    "timeout_ms": (100, 60_000),
    "backoff_ms": (10, 60_000),
    "backoff_cap_ms": (100, 3_600_000),
}
_MQTT_TEXT = ("host", "user", "password", "client_id")
_MQTT_REQUIRED = ("host", "port", "user", "password")
_TOP = {"dev", "site", "mqtt", "wifi", *_WHOLE, *_TEXT, *_REMOTE}


def problems(doc: Any) -> list[str]:
    """What is wrong with the flashing config `doc` (parsed JSON), one line each; [] if none."""
    if not isinstance(doc, dict):
        return ["the config must be a JSON object"]
    out = [f"{k}: not a key the scanner reads" for k in sorted(set(doc) - _TOP)]
    for key in ("dev", "site"):
        value = doc.get(key)
        if not (isinstance(value, str) and valid_name(value)):
            out.append(f"{key}: must be a name (letters, digits, -, _), got {shown(value)}")
    out += _mqtt(doc.get("mqtt"))
    out += _wifi(doc.get("wifi"))
    for key, value in doc.items():
        if key in _REMOTE:
            error = scanner_value_error(key, value)
        elif key in _WHOLE:
            error = _whole(value, *_WHOLE[key])
        elif key in _TEXT:
            error = None if isinstance(value, str) and value else "must be a path"
        else:
            continue
        if error:
            out.append(f"{key}: {error}")
    return out


def _mqtt(mqtt: Any) -> list[str]:
    if not isinstance(mqtt, dict):
        return [f"mqtt: must be an object with {', '.join(_MQTT_REQUIRED)}"]
    out = [f"mqtt.{k}: missing" for k in _MQTT_REQUIRED if k not in mqtt]
    for key, value in mqtt.items():
        if key in _MQTT_WHOLE:
            error = _whole(value, *_MQTT_WHOLE[key])
        elif key in _MQTT_TEXT:
            error = None if isinstance(value, str) and value else "must be a non-empty string"
        else:
            error = "not a key the scanner reads"
        if error:
            out.append(f"mqtt.{key}: {error}")
    return out


def _wifi(wifi: Any) -> list[str]:
    if wifi is None:
        return []  # flash notes it: the scanner cannot go online without one
    if not isinstance(wifi, dict):
        return [f'wifi: must be {{"ssid": ..., "psk": ...}}, got {shown(wifi)}']
    out = [f"wifi.{k}: not a key the scanner reads" for k in sorted(set(wifi) - {"ssid", "psk"})]
    ssid, psk = wifi.get("ssid"), wifi.get("psk")
    if not (isinstance(ssid, str) and 0 < len(ssid.encode()) <= 32):
        out.append(f"wifi.ssid: must be 1..32 bytes of text, got {shown(ssid)}")
    if not (isinstance(psk, str) and (psk == "" or 8 <= len(psk) <= 63)):
        out.append('wifi.psk: must be "" (an open network) or a WPA passphrase of 8..63 characters')
    return out


def _whole(value: Any, lo: int, hi: int) -> str | None:
    ok = type(value) is int and lo <= value <= hi
    return None if ok else f"must be a whole number {lo}..{hi}, got {shown(value)}"
