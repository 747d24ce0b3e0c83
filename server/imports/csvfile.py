"""Reading an import CSV: bytes to a checked header and numbered records, and cell parsers that
note a row error instead of raising. Pure: no database.

Accepted: UTF-8 with or without a BOM, `,` or `;` between cells (sniffed from the header row),
LF or CRLF line ends, quoted cells. Rows are numbered as a spreadsheet shows them: the header is
row 1 and blank rows count. Whitespace around a cell is dropped; header names are matched
without regard to case. A whole-file problem (too large, too many rows, not UTF-8, broken
quoting) is a `Refused`; everything about a row is a `RowError`, and all of them are collected.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from server.barcodes.parse import BarcodeRefused, normalize_gtin
from server.errors import Refused
from server.validation import MAX_COST, MAX_QTY, check_identifier, check_name

MAX_BYTES = 4 * 1024 * 1024  # the API's default request body limit, too
MAX_ROWS = 50_000  # data rows of a file (blank ones not counted), unless its Layout says less
MAX_ERRORS = 1000  # row errors listed in one answer (the rest are counted)

_WHOLE = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SCIENTIFIC = re.compile(r"\d+([.,]\d+)?[eE]\+?\d+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of one cell (or of a whole row, column "")."""

    row: int
    column: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
            "detail": self.detail,
        }

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.reason}: {self.detail}"


class ImportRejected(Refused):
    """The file has row errors: nothing was imported. `errors` holds all of them."""

    def __init__(self, errors: Sequence[RowError], what: str, columns: Sequence[str] = ()) -> None:
        order = {name: i for i, name in enumerate(("", *columns))}
        self.errors = sorted(errors, key=lambda e: (e.row, order.get(e.column, len(order))))
        rows = len({e.row for e in self.errors})
        super().__init__(
            "invalid rows",
            f"{len(self.errors)} error(s) in {rows} row(s) of the {what} file; nothing was "
            "imported",
        )

    def to_json(self, limit: int = MAX_ERRORS) -> dict[str, Any]:
        shown = self.errors[:limit]
        return {
            "reason": self.reason,
            "detail": self.detail,
            "errors": [e.to_json() for e in shown],
            "more": len(self.errors) - len(shown),
        }


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns a kind of file has: which must be in the header, and which come in pairs
    (a GTIN column needs its quantity column)."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...] = ()
    max_rows: int = MAX_ROWS


@dataclass(frozen=True, slots=True)
class Record:
    row: int
    cells: dict[str, str]  # known column -> stripped text ('' when empty or absent)


@dataclass(slots=True)
class Table:
    columns: tuple[str, ...]  # the known columns the header has, in file order
    delimiter: str
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def decode(data: bytes, max_bytes: int = MAX_BYTES) -> str:
    if len(data) > max_bytes:
        raise Refused("too large", f"the file has more than {max_bytes} bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("not utf-8", "the file is UTF-16: save it as 'CSV UTF-8'")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Refused(
            "not utf-8", f"byte {exc.start} (line {line}) is not UTF-8: save the file as UTF-8"
        ) from None


def sniff(header_line: str) -> str:
    """`,` or `;`, whichever the header row is separated by (`,` for a one-column file)."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=",;").delimiter
    except csv.Error:
        return ","


def read(
    data: bytes, layout: Layout, max_bytes: int = MAX_BYTES, max_rows: int | None = None
) -> Table:
    """The header checked against `layout` (row errors for missing, unknown or repeated columns)
    and every non-blank data row as a Record."""
    text = decode(data, max_bytes)
    max_rows = max_rows or layout.max_rows
    if not text.strip():
        raise Refused("empty file", "no header row: the first row names the columns")
    delimiter = sniff(text.lstrip("\r\n").splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table: Table | None = None
    names: list[str] = []
    count = 0
    row = 0
    try:
        for row, cells in enumerate(reader, start=1):
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if table is None:
                names = [c.lower() for c in cells]
                table = _header(names, layout, row, delimiter)
                continue
            count += 1
            if count > max_rows:
                raise Refused("too many rows", f"more than {max_rows} rows: split the file")
            table.records.append(_record(names, cells, row, table.errors))
    except csv.Error as exc:
        raise Refused("bad csv", f"row {row + 1}: {exc}") from None
    assert table is not None
    return table


def _header(names: list[str], layout: Layout, row: int, delimiter: str) -> Table:
    errors: list[RowError] = []
    known = ", ".join(layout.columns)
    seen: set[str] = set()
    for name in names:
        if not name:
            continue
        if name in seen:
            errors.append(RowError(row, name, "duplicate column", f"{name!r} appears twice"))
        elif name not in layout.columns:
            errors.append(RowError(row, name, "unknown column", f"{name!r}; known: {known}"))
        seen.add(name)
    for name in layout.required:
        if name not in seen:
            errors.append(RowError(row, name, "missing column", f"no column {name!r}"))
    for first, second in layout.pairs:
        for have, need in ((first, second), (second, first)):
            if have in seen and need not in seen:
                detail = f"column {have!r} needs a column {need!r}"
                errors.append(RowError(row, need, "missing column", detail))
    columns = tuple(n for n in dict.fromkeys(names) if n in layout.columns)
    return Table(columns, delimiter, errors=errors)


def _record(names: list[str], cells: list[str], row: int, errors: list[RowError]) -> Record:
    values: dict[str, str] = {}
    for i, name in enumerate(names):
        if name and name not in values:
            values[name] = cells[i] if i < len(cells) else ""
    if len(cells) < len(names):
        absent = ", ".join(n or f"column {i + 1}" for i, n in enumerate(names) if i >= len(cells))
        detail = f"the row has {len(cells)} cells, the header {len(names)}: no {absent}"
        errors.append(RowError(row, "", "missing column", detail))
    stray = [i for i, c in enumerate(cells) if c and (i >= len(names) or not names[i])]
    if stray:
        detail = f"a value in column {stray[0] + 1}, which the header does not name"
        errors.append(RowError(row, "", "extra cells", detail))
    return Record(row, values)


class Cells:
    """One record's cells, parsed; a bad cell becomes a RowError and the parser returns None."""

    def __init__(self, record: Record, errors: list[RowError]) -> None:
        self.row = record.row
        self.cells = record.cells
        self.errors = errors

    def error(self, column: str, reason: str, detail: str) -> None:
        self.errors.append(RowError(self.row, column, reason, detail))

    def text(self, column: str) -> str:
        return self.cells.get(column, "")

    def has(self, column: str) -> bool:
        return bool(self.text(column))

    def identifier(self, column: str) -> str | None:
        """A SKU or location code; an empty cell is `missing value`."""
        value = self.text(column)
        if not value:
            if column in self.cells:
                self.error(column, "missing value", f"the {column} is empty")
            return None
        try:
            return check_identifier(value)
        except ValueError as exc:
            self.error(column, "bad value", f"{value!r}: {exc}")
            return None

    def name(self, column: str) -> str | None:
        try:
            return check_name(self.text(column))
        except ValueError as exc:
            self.error(column, "bad value", str(exc))
            return None

    def lot(self, column: str) -> str:
        value = self.text(column)
        if len(value) > 64 or _CONTROL.search(value):
            self.error(column, "bad value", "a lot is at most 64 characters, no control chars")
            return ""
        return value

    def whole(self, column: str, minimum: int = 0, maximum: int = MAX_QTY) -> int | None:
        """A whole number of units; None when empty or bad."""
        value = self.text(column)
        if not value:
            return None
        if not _WHOLE.fullmatch(value):
            why = "a whole number" + (" without separators" if "," in value or "." in value else "")
            self.error(column, "bad number", f"{value!r} is not {why}")
            return None
        number = int(value)
        if number < 0:
            self.error(column, "negative qty", f"{number} is below 0")
        elif number < minimum or number > maximum:
            self.error(column, "bad number", f"{number} is not within {minimum}..{maximum}")
        else:
            return number
        return None

    def cost(self, column: str) -> Decimal | None:
        value = self.text(column)
        if not value:
            return None
        if not _DECIMAL.fullmatch(value):
            why = " (use '.' as the decimal separator)" if "," in value else ""
            self.error(column, "bad number", f"{value!r} is not a number{why}")
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            self.error(column, "bad number", f"{value!r} is not a number")
            return None
        if number < 0:
            self.error(column, "negative cost", f"{value} is below 0")
        elif number > MAX_COST:
            self.error(column, "bad number", f"{value} is above {MAX_COST}")
        elif number != number.quantize(_PLACES):
            self.error(column, "bad number", f"{value} has more than 4 decimal places")
        else:
            return number
        return None

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if not value:
            return None
        try:
            if _DAY.fullmatch(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.error(column, "bad expiry", f"{value!r} is not a date as YYYY-MM-DD")
        return None

    def gtin(self, column: str) -> str | None:
        """The cell's GTIN-8/12/13/14 as GTIN-14, checked by the ledger's barcode parser."""
        value = self.text(column)
        if not value:
            return None
        if not value.isdigit():
            why = (
                ": a spreadsheet wrote it in scientific notation; format the column as text"
                if _SCIENTIFIC.fullmatch(value)
                else ": a GTIN is 8, 12, 13 or 14 digits"
            )
            self.error(column, "not a valid GTIN", f"{value!r}{why}")
            return None
        try:
            return normalize_gtin(value)
        except BarcodeRefused as exc:
            self.error(column, exc.reason, exc.detail)
            return None
