"""Pure barcode decoding on top of biip: a code becomes a `Decoded` or a `BarcodeRefused`.

No I/O here. GS1 element strings (AI 00/01/02/10/17/21/37/310n) come from `biip.parse`; this module
only chooses among biip's interpretations and maps its errors to the protocol's reasons.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
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
    net_weight_kg: Decimal | None = None  # AI 310n: variable-measure items

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["expiry"] = self.expiry.isoformat() if self.expiry else None
        doc["net_weight_kg"] = str(self.net_weight_kg) if self.net_weight_kg is not None else None
        return doc


_DATE_AIS = {"11", "12", "13", "15", "16", "17"}
_AI_ERROR = re.compile(r"GS1 AI \((\d{2,4})\)")
_CHECK_DIGIT = re.compile(r"check digit for '(\d+)': Expected (\d), got (\d)")
_DIGITS = re.compile(r"got (\d+)\.")


def sscc_refusal(sscc: str | None) -> BarcodeRefused:
    """The one way an SSCC is described: it names a logistic unit, not a trade item."""
    what = f"SSCC {sscc}" if sscc else "an SSCC"
    return BarcodeRefused("not a trade item", f"{what} names a logistic unit (pallet or case)")


def _refuse_gtin_error(error: str) -> BarcodeRefused:
    """biip's GTIN error in words an admin reads (no patterns, no internals)."""
    if found := _CHECK_DIGIT.search(error):
        number, want, got = found.groups()
        return BarcodeRefused(
            "check digit", f"GTIN {number} has check digit {got}, {want} expected"
        )
    if "check digit" in error.lower():
        return BarcodeRefused("check digit", "the GTIN's check digit is wrong")
    if found := _DIGITS.search(error):
        return BarcodeRefused(
            "not a valid GTIN", f"{found.group(1)} digits: a GTIN has 8, 12, 13 or 14"
        )
    return BarcodeRefused("not a valid GTIN", "the digits are no GTIN")


def _refuse_message_error(error: str) -> BarcodeRefused:
    """biip's GS1 message error in words: which AI is malformed, never its regex."""
    if found := _AI_ERROR.search(error):
        ai = found.group(1)
        what = "date" if ai in _DATE_AIS else "value"
        return BarcodeRefused("unknown barcode", f"bad {what} in AI {ai}")
    if "Application Identifier" in error:
        return BarcodeRefused("unknown barcode", "no GS1 application identifier where one is due")
    return BarcodeRefused("unknown barcode", "not a GS1 element string")


def _from_message(message: GS1Message) -> Decoded:
    fields: dict[str, Any] = {}
    for element in message.element_strings:
        ai = element.ai.ai
        if ai in ("01", "02"):
            if element.gtin is None:
                raise _refuse_gtin_error(element.gtin_error or "")
            fields["gtin14"] = element.gtin.as_gtin_14()
        elif ai == "00":
            if element.sscc is None:
                sscc = element.value
                raise BarcodeRefused("check digit", f"SSCC {sscc} has a wrong check digit")
            fields["sscc"] = element.sscc.value
        elif ai == "10":
            fields["lot"] = element.value
        elif ai == "17":
            if element.date is None:
                raise BarcodeRefused("unknown barcode", "bad date in AI 17")
            fields["expiry"] = element.date
        elif ai == "21":
            fields["serial"] = element.value
        elif ai.startswith("310") and len(ai) == 4:
            decimals = int(ai[3])
            fields["net_weight_kg"] = Decimal(int(element.value)).scaleb(-decimals)
        elif ai == "37":
            fields["qty"] = int(element.value)
            if fields["qty"] < 1:
                raise BarcodeRefused("unknown barcode", "bad count in AI 37: 0 units")
    if "gtin14" not in fields and "sscc" not in fields:
        raise BarcodeRefused("unknown barcode", "a GS1 code without a GTIN or SSCC")
    return Decoded(**fields)


def _names_item(message: GS1Message | None) -> bool:
    return message is not None and any(e.ai.ai in ("01", "02") for e in message.element_strings)


def decode(code: str) -> Decoded:
    """Decode a code as the scanner sent it (AIM prefix and GS kept)."""
    code = code.strip("\r\n")
    if not code or code.startswith("SW:") or code[3:].startswith("SW:"):
        raise BarcodeRefused("unknown barcode", "a scanner label, not an item")
    try:
        result = biip.parse(code)
    except Exception as exc:  # biip.ParseError, or an IndexError on a cut-off AIM prefix
        raise BarcodeRefused("unknown barcode", "not a barcode the ledger can read") from exc
    message = result.gs1_message
    if _names_item(message):  # with or without an AIM prefix: lot, expiry, serial kept
        assert message is not None
        return _from_message(message)
    symbology = result.symbology_identifier
    is_gs1 = symbology is not None and symbology.gs1_symbology in _GS1_SYMBOLOGIES
    payload = code[3:] if symbology is not None else code
    if not is_gs1 and payload.isascii() and payload.isdigit() and len(payload) in (8, 12, 13, 14):
        # plain GTIN digits: a misread 95... is a wrong check digit, not internal AI 95
        if result.gtin is not None:
            return Decoded(gtin14=result.gtin.as_gtin_14())
        raise _refuse_gtin_error(result.gtin_error or "")
    if is_gs1 or (result.gtin is None and message is not None):
        if message is None:
            raise _refuse_message_error(result.gs1_message_error or "")
        return _from_message(message)
    if result.gtin is not None:
        return Decoded(gtin14=result.gtin.as_gtin_14())
    if result.sscc is not None:
        return Decoded(sscc=result.sscc.value)
    looks_gs1 = "\x1d" in payload or (payload[:2] in ("01", "02") and len(payload) > 14)
    if looks_gs1 and result.gs1_message_error:  # an element string without an AIM prefix
        raise _refuse_message_error(result.gs1_message_error)
    if payload.isdigit():
        raise _refuse_gtin_error(result.gtin_error or "")
    raise BarcodeRefused("unknown barcode", "not a GS1 code")


def normalize_gtin(text: str) -> str:
    """A GTIN-8/12/13/14 as typed by an admin, as GTIN-14; BarcodeRefused if it is none.
    8, 12, 13 or 14 plain digits are read as a GTIN only, never as an element string (a
    mistyped 95060001... is a wrong check digit, not internal AI 95)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) in (8, 12, 13, 14):
        try:
            return biip.gtin.Gtin.parse(text).as_gtin_14()
        except biip.ParseError as exc:
            raise _refuse_gtin_error(str(exc)) from None
    decoded = decode(text)
    if decoded.gtin14 is None:
        raise BarcodeRefused("not a valid GTIN", f"{text!r} is not a GTIN")
    return decoded.gtin14
