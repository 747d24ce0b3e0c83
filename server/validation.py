"""The bounds every API input obeys, in one place: Annotated types the request models, path and
query parameters reuse, so a bad value is a 422 that says what is allowed (never a 500).

Quantities are whole units (0..1,000,000,000); a GTIN multiplier is 1..1,000,000; a unit cost
is 0..1,000,000,000 with at most 4 decimal places; identifiers (SKU, location, reference,
channel name) are 1-64 characters without '/', control characters or surrounding spaces.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import Path, Query
from pydantic import AfterValidator, Field

MAX_QTY = 1_000_000_000  # a stock level, an order or count quantity
MAX_MULTIPLIER = 1_000_000  # units one read of a GTIN stands for (each=1, case=12, ...)
MAX_COST = 1_000_000_000
MAX_ID = 2**63 - 1  # a database id (BIGINT)
MAX_LIMIT = 10_000
IDENTIFIER_CHARS = 64
NAME_CHARS = 200
URL_CHARS = 2048
SECRET_CHARS = (16, 256)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _encodable(value: str, what: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid UTF-8 text (a lone surrogate)") from None
    return value


def check_identifier(value: str) -> str:
    """SKU codes, location codes, references, channel names: one rule for all of them."""
    _encodable(value, "an identifier")
    if not value.strip():
        raise ValueError("an identifier must not be empty or only spaces")
    if len(value) > IDENTIFIER_CHARS:
        raise ValueError(f"an identifier is at most {IDENTIFIER_CHARS} characters")
    if value != value.strip():
        raise ValueError("an identifier must not start or end with a space")
    if "/" in value or _CONTROL.search(value):
        raise ValueError("an identifier must not contain '/' or control characters")
    return value


def check_name(value: str) -> str:
    _encodable(value, "a name")
    if len(value) > NAME_CHARS:
        raise ValueError(f"a name is at most {NAME_CHARS} characters")
    if _CONTROL.search(value):
        raise ValueError("a name must not contain control characters")
    return value


def check_text(value: str) -> str:
    """Free single-line text such as a GTIN as typed or a secret: UTF-8, no control chars."""
    _encodable(value, "the text")
    if _CONTROL.search(value):
        raise ValueError("the text must not contain control characters")
    return value


def check_url(value: str) -> str:
    _encodable(value, "a url")
    if len(value) > URL_CHARS or _CONTROL.search(value) or " " in value:
        raise ValueError(f"a url is at most {URL_CHARS} characters without spaces")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # a non-numeric or out-of-range port raises here
    except ValueError:
        raise ValueError("not a valid http(s) url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("the url must be http:// or https:// with a host")
    return value


Identifier = Annotated[str, AfterValidator(check_identifier)]
Name = Annotated[str, AfterValidator(check_name)]
Text = Annotated[str, Field(max_length=IDENTIFIER_CHARS), AfterValidator(check_text)]
Secret = Annotated[
    str,
    Field(min_length=SECRET_CHARS[0], max_length=SECRET_CHARS[1]),
    AfterValidator(check_text),
]
Url = Annotated[str, AfterValidator(check_url)]

Quantity = Annotated[int, Field(ge=0, le=MAX_QTY)]  # stock level, stocktake count, reorder values
OrderQty = Annotated[int, Field(ge=1, le=MAX_QTY)]  # a purchase-order line
Multiplier = Annotated[int, Field(ge=1, le=MAX_MULTIPLIER)]
UnitCost = Annotated[Decimal, Field(ge=0, le=MAX_COST, decimal_places=4, allow_inf_nan=False)]

# path and query parameters
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdentifierPath = Annotated[Identifier, Path()]
IdentifierQuery = Annotated[Identifier | None, Query()]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
EventStatus = Literal["booked", "refused"]
QuarantineStatus = Literal["open", "replayed"]


def jsonable(value: Any, text_limit: int = 200) -> Any:
    """An error body's values made safe for strict JSON: NaN/inf and undecodable strings become
    text, long strings are cut (a 422 never echoes an 8 MiB input back)."""
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v, text_limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, text_limit) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= text_limit else text[:text_limit] + "..."


def storable(text: str, limit: int) -> str:
    """Text any column of either backend takes: lone surrogates and NUL (which PostgreSQL text
    cannot hold) written as escapes, cut to `limit` characters."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")[:limit]
