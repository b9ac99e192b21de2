"""Writing lists out: CSV, XLSX and JSON files, one row at a time (never the whole list in memory).

Every domain's export (customers, the audit trail, later orders and tickets) writes through these, so the
rules are kept once: text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) are written with a leading apostrophe; CSV is UTF-8 with a byte-order
mark so that Excel reads accents and Chinese correctly; times are written in the site's time zone.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# "+44 20 7946 0958", "-12.50", "+1 555***0200": a sign then only digits, spaces and number punctuation
# cannot call a function or reach another program (that needs letters, "|" or "!"), so it stays as written
_PLAIN_NUMBER = re.compile(r"[+-][\d\s().,*/#-]*\Z")

Column = tuple[str, str]  # (key, header)


def safe_cell(value: Any) -> str:
    """``value`` as spreadsheet-safe text: a text a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP's CSV-injection advice); a signed phone number or amount is left as it is."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _local(value: Any) -> Any:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def _text(value: Any) -> str:
    value = _local(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RowWriter(Protocol):
    def write(self, row: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.keys = [key for key, _label in columns]
        self.handle = path.open("w", newline="", encoding="utf-8-sig")
        self.writer = csv.writer(self.handle)
        self.writer.writerow([safe_cell(label) for _key, label in columns])

    def write(self, row: dict[str, Any]) -> None:
        self.writer.writerow([safe_cell(_text(row.get(key))) for key in self.keys])

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
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(sheet[:31])
        bold = Font(bold=True)
        header = []
        for _key, label in columns:
            cell = WriteOnlyCell(self.sheet, value=safe_cell(label))
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)

    @staticmethod
    def _cell(value: Any) -> Any:
        value = _local(value)
        if value is None or isinstance(value, (bool, int, float, Decimal, dt.date)):
            return value
        return safe_cell(_text(value))

    def write(self, row: dict[str, Any]) -> None:
        self.sheet.append([self._cell(row.get(key)) for key in self.keys])

    def close(self) -> None:
        self.book.save(self.path)


class JsonWriter:
    """A JSON array of objects, written as it goes (valid JSON once closed)."""

    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.keys = [key for key, _label in columns]
        self.handle = path.open("w", encoding="utf-8")
        self.handle.write("[")
        self.first = True

    def write(self, row: dict[str, Any]) -> None:
        self.handle.write("\n" if self.first else ",\n")
        self.first = False
        item = {key: _local(row.get(key)) for key in self.keys}
        self.handle.write(json.dumps(item, cls=DjangoJSONEncoder, ensure_ascii=False))

    def close(self) -> None:
        self.handle.write("\n]\n")
        self.handle.close()
