"""Pure barcode decoding on top of biip: a code becomes a `Decoded` or a `BarcodeRefused`.

No I/O here. GS1 element strings (AI 00/01/02/10/17/21/37) come from `biip.parse`; this module
only chooses among biip's interpretations and maps its errors to the protocol's reasons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import biip
from biip.gs1_messages import GS1Message
from biip.symbology import GS1Symbology

from server.errors import Refused

_GS1_SYMBOLOGIES = {
    GS1Symbology.GS1_128,
    GS1Symbology.GS1_DATAMATRIX,
    GS1Symbology.GS1_QR_CODE,
    GS1Symbology.GS1_DATABAR,
}


class BarcodeRefused(Refused):
    """The code is not a bookable trade item: check digit, not a valid GTIN, SSCC, ..."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """What the code says. `qty` is the AI 37 count (1 when absent)."""

    gtin14: str | None = None
    lot: str = ""
    expiry: date | None = None
    serial: str = ""
    qty: int = 1
    sscc: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["expiry"] = self.expiry.isoformat() if self.expiry else None
        return doc


def _refuse_gtin_error(error: str) -> BarcodeRefused:
    if "check digit" in error.lower():
        return BarcodeRefused("check digit", error)
    return BarcodeRefused("not a valid GTIN", error)


def _from_message(message: GS1Message) -> Decoded:
    fields: dict[str, Any] = {}
    for element in message.element_strings:
        ai = element.ai.ai
        if ai in ("01", "02"):
            if element.gtin is None:
                raise _refuse_gtin_error(element.gtin_error or f"bad GTIN {element.value}")
            fields["gtin14"] = element.gtin.as_gtin_14()
        elif ai == "00":
            if element.sscc is None:
                raise BarcodeRefused("check digit", element.sscc_error or "bad SSCC")
            fields["sscc"] = element.sscc.value
        elif ai == "10":
            fields["lot"] = element.value
        elif ai == "17":
            fields["expiry"] = element.date
        elif ai == "21":
            fields["serial"] = element.value
        elif ai == "37":
            fields["qty"] = int(element.value)
    if "gtin14" not in fields and "sscc" not in fields:
        raise BarcodeRefused("unknown barcode", "GS1 message without a GTIN or SSCC")
    return Decoded(**fields)


def decode(code: str) -> Decoded:
    """Decode a code as the scanner sent it (AIM prefix and GS kept)."""
    code = code.strip("\r\n")
    if not code or code.startswith("SW:") or code[3:].startswith("SW:"):
        raise BarcodeRefused("unknown barcode", "a scanner label, not an item")
    try:
        result = biip.parse(code)
    except biip.ParseError as exc:
        raise BarcodeRefused("unknown barcode", str(exc)) from exc
    symbology = result.symbology_identifier
    is_gs1 = symbology is not None and symbology.gs1_symbology in _GS1_SYMBOLOGIES
    if is_gs1 or (result.gtin is None and result.gs1_message is not None):
        if result.gs1_message is None:
            raise BarcodeRefused("unknown barcode", result.gs1_message_error or "not GS1")
        return _from_message(result.gs1_message)
    if result.gtin is not None:
        return Decoded(gtin14=result.gtin.as_gtin_14())
    if result.sscc is not None:
        return Decoded(sscc=result.sscc.value)
    payload = code[3:] if symbology is not None else code
    if payload.isdigit():
        raise _refuse_gtin_error(result.gtin_error or "digits that are no GTIN")
    raise BarcodeRefused("unknown barcode", f"not a GS1 code: {code!r}")


def normalize_gtin(text: str) -> str:
    """A GTIN-8/12/13/14 as typed by an admin, as GTIN-14; BarcodeRefused if it is none."""
    decoded = decode(text.strip())
    if decoded.gtin14 is None:
        raise BarcodeRefused("not a valid GTIN", f"{text!r} is not a GTIN")
    return decoded.gtin14
