"""Writing lists out: CSV, XLSX and JSON files, one row at a time (never the whole list in memory).

Every domain's export (customers, the audit trail, later orders and tickets) writes through these, so the
rules are kept once: text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) are written with a leading apostrophe; CSV is UTF-8 with a byte-order
mark so that Excel reads accents and Chinese correctly; times are written in the site's time zone.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = "".join(_FORMULA_START)
# "+44 20 7946 0958", "-12.50", "+1 555***0200": a sign then only digits, spaces and number punctuation
# cannot call a function or reach another program (that needs letters, "|" or "!"), so it stays as written
_PLAIN_NUMBER = re.compile(r"[+-][\d\s().,*/#-]*\Z")

Column = tuple[str, str]  # (key, header)


def safe_cell(value: Any) -> str:
    """``value`` as spreadsheet-safe text: a text a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP's CSV-injection advice); a signed phone number or amount is left as it is."""
    text = value if type(value) is str else "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _local(value: Any, zone: dt.tzinfo | None = None) -> Any:
    """An aware date-time in ``zone`` (the site's time zone), without its offset."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return value.astimezone(zone or timezone.get_current_timezone()).replace(tzinfo=None)
    return value


def _text(value: Any, zone: dt.tzinfo | None = None) -> str:
    if type(value) is str:  # most cells: nothing to convert
        return value
    if type(value) is dt.datetime and value.tzinfo is not None and value.utcoffset() is not None:
        # the same text as _local(value).isoformat(...), without building the naive copy
        return value.astimezone(zone or timezone.get_current_timezone()).isoformat(" ", "seconds")[:19]
    value = _local(value, zone)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v, zone) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RowWriter(Protocol):
    def write(self, row: dict[str, Any]) -> None: ...

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None: ...

    def write_columns(self, columns: Sequence[Sequence[Any]]) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.keys = [key for key, _label in columns]
        self.zone = timezone.get_current_timezone()
        # the byte-order mark written once: the utf-8-sig codec is slower on every write
        self.handle = path.open("w", newline="", encoding="utf-8")
        self.handle.write("\ufeff")
        self.writer = csv.writer(self.handle)
        self.writer.writerow([safe_cell(label) for _key, label in columns])

    def write(self, row: dict[str, Any]) -> None:
        self.write_rows([[row.get(key) for key in self.keys]])

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows as lists of values in the order of the columns."""
        self.write_columns(list(zip(*rows, strict=True)))

    def write_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """Rows given column by column (a sequence of values per column, all of one length)."""
        zone, risky, safe = self.zone, _FORMULA_CHARS, safe_cell
        texts = [
            # a text that cannot start a formula is written as it is (most cells): no call per cell
            [
                (v if not v or v[0] not in risky else safe(v)) if type(v) is str else safe(_text(v, zone))
                for v in column
            ]
            for column in columns
        ]
        self.writer.writerows(zip(*texts, strict=True))

    def close(self) -> None:
        self.handle.close()


class XlsxWriter:
    """A write-only workbook (rows streamed to disk): dates, numbers and money stay typed."""

    def __init__(self, path: Path, columns: Sequence[Column], *, sheet: str = "Export") -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.path = path
        self.keys = [key for key, _label in columns]
        self.zone = timezone.get_current_timezone()
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(sheet[:31])
        bold = Font(bold=True)
        header = []
        for _key, label in columns:
            cell = WriteOnlyCell(self.sheet, value=safe_cell(label))
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)

    def _cell(self, value: Any) -> Any:
        value = _local(value, self.zone)
        if value is None or isinstance(value, (bool, int, float, Decimal, dt.date)):
            return value
        return safe_cell(_text(value, self.zone))

    def write(self, row: dict[str, Any]) -> None:
        self.write_rows([[row.get(key) for key in self.keys]])

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.sheet.append([self._cell(v) for v in values])

    def write_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        self.write_rows(zip(*columns, strict=True))

    def close(self) -> None:
        self.book.save(self.path)


class JsonWriter:
    """A JSON array of objects, written as it goes (valid JSON once closed)."""

    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.keys = [key for key, _label in columns]
        self.zone = timezone.get_current_timezone()
        self.encoder = DjangoJSONEncoder(ensure_ascii=False)
        self.handle = path.open("w", encoding="utf-8")
        self.handle.write("[")
        self.first = True

    def write(self, row: dict[str, Any]) -> None:
        self.write_rows([[row.get(key) for key in self.keys]])

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        keys, zone, encode = self.keys, self.zone, self.encoder.encode
        for values in rows:
            self.handle.write("\n" if self.first else ",\n")
            self.first = False
            self.handle.write(encode({k: _local(v, zone) for k, v in zip(keys, values, strict=True)}))

    def write_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        self.write_rows(zip(*columns, strict=True))

    def close(self) -> None:
        self.handle.write("\n]\n")
        self.handle.close()
