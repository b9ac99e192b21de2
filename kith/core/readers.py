"""Reading uploaded tables: CSV, XLSX and vCard files, one row at a time (never the whole file in memory).

``open_table`` looks at the file once (format from its content, encoding, CSV delimiter, a preamble before
the header, the columns) and returns a ``Table`` whose ``rows()`` streams the data rows again from the
start on every call, each row a ``dict`` of column → text. Every importer (customers today, orders later)
reads through this, so the rules about encodings and odd exports are kept once.

Two keys may appear in a row besides the columns: ``__extra__`` (values beyond the header's width, joined
with the delimiter) and ``__error__`` (a vCard that could not be parsed: the message). The importer reports
such a row as malformed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.utils.translation import gettext as _

EXTRA_KEY = "__extra__"
ERROR_KEY = "__error__"

SAMPLE_BYTES = 64 * 1024
_CHUNK_BYTES = 128 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) container
_VCARD_EXTENSIONS = (".vcf", ".vcard")
_XLSX_EXTENSIONS = (".xlsx", ".xlsm")
# characters Western (cp1252) text uses outside ASCII that are not letters
_WESTERN_SYMBOLS = frozenset("€‘’‚“”„…–—•™°§©®«»£¥¢·×÷¿¡ªº±²³µ¶¼½¾¦¨¯´¸¹")


class ReadError(ValueError):
    """The file cannot be read as a table; ``message`` says why, in words for the person who uploaded it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Source(Protocol):
    def rows(self, columns: list[str]) -> Iterator[dict[str, str]]: ...

    def estimate(self) -> int | None: ...


@dataclass
class Table:
    format: str  # "csv", "xlsx" or "vcard"
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "gb18030", "cp1252" ...; "" for xlsx
    delimiter: str  # for csv, else ""
    columns: list[str]  # header names as in the file, duplicates made unique with " (2)", " (3)" ...
    source: _Source = field(repr=False, compare=False)

    def rows(self) -> Iterator[dict[str, str]]:
        """The data rows from the start: every column present, every value a ``str`` ("" when empty)."""
        return self.source.rows(self.columns)

    def row_count_estimate(self) -> int | None:
        """About how many data rows there are (exact for small files and vCards), or None if unknown."""
        return self.source.estimate()


def open_table(path: Path, *, filename: str = "") -> Table:
    """Look at ``path`` and return a ``Table`` reading it; ``filename`` is the name it was uploaded under
    (its extension is a hint when the content is ambiguous). Raises ``ReadError``."""
    extension = Path(filename or path.name).suffix.lower()
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_BYTES)
    except OSError as exc:
        raise ReadError(_("The file could not be opened.")) from exc
    if size == 0 or not head.strip():
        raise ReadError(_("The file is empty."))
    if head.startswith(_XLSX_MAGIC):
        return _open_xlsx(path)
    if head.startswith(_OLE2_MAGIC):
        raise ReadError(_("This is an old Excel (.xls) file. Save it as .xlsx or CSV and upload it again."))
    if extension in _XLSX_EXTENSIONS:
        raise ReadError(_("This file is named like an Excel workbook but is not one."))
    encoding = _detect_encoding(path, head)
    text = _decode_head(head, encoding, complete=size <= SAMPLE_BYTES)
    if _looks_binary(text):
        raise ReadError(_("This file is not a CSV, Excel (.xlsx) or vCard file, so it cannot be read."))
    if _starts_with_vcard(text) or (extension in _VCARD_EXTENSIONS and "BEGIN:VCARD" in text.upper()):
        return _open_vcard(path, encoding)
    if extension in _VCARD_EXTENSIONS:
        raise ReadError(_("This file has no vCard in it."))
    return _open_csv(path, encoding, text, size=size, complete=size <= SAMPLE_BYTES)


# --- encodings -----------------------------------------------------------------------------------------


def _detect_encoding(path: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _bomless_utf16(head)
    if utf16:
        return utf16
    error_at = _first_non_utf8_offset(path)
    if error_at is None:
        return "utf-8"
    sample = head
    if error_at >= len(head) or head.isascii():
        with path.open("rb") as handle:
            handle.seek(max(0, error_at - 1024))
            sample = handle.read(SAMPLE_BYTES)
    return _legacy_encoding(sample)


def _bomless_utf16(head: bytes) -> str:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a zero byte in every other position."""
    sample = head[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return ""
    zero_even = sum(1 for i in range(0, pairs * 2, 2) if sample[i] == 0)
    zero_odd = sum(1 for i in range(1, pairs * 2, 2) if sample[i] == 0)
    if zero_odd > pairs * 0.3 and zero_even < pairs * 0.05:
        return "utf-16-le"
    if zero_even > pairs * 0.3 and zero_odd < pairs * 0.05:
        return "utf-16-be"
    return ""


def _first_non_utf8_offset(path: Path) -> int | None:
    """Where the file stops being valid UTF-8 (about), or None when all of it is: read in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            if chunk.isascii() and not decoder.getstate()[0]:
                offset += len(chunk)
                continue
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return max(0, offset - 4)
    return None


def _legacy_encoding(sample: bytes) -> str:
    """Chinese GBK/GB18030 or Western cp1252 (what Windows programs such as Outlook write): decode the
    sample both ways and keep the reading that looks like real text."""
    cut = sample.rfind(b"\n")
    if cut > 0:
        sample = sample[:cut]
    chinese = _chinese_score(sample.decode("gb18030", errors="replace"))
    western = _western_score(sample.decode("cp1252", errors="replace"))
    return "gb18030" if chinese > western else "cp1252"


def _chinese_score(text: str) -> float:
    """Share of the non-ASCII characters that are in GB2312, the common characters of Chinese text.
    Western text read as GBK gives rare characters (an accent then an ASCII letter) or undecodable bytes."""
    others = [ch for ch in text if ord(ch) > 127]
    if not others:
        return 0.0
    good = 0
    for ch in others:
        if ch == "\ufffd":
            continue
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        good += 1
    return good / len(others)


def _western_score(text: str) -> float:
    """Share of the non-ASCII characters that look like Western text: letters and usual symbols standing
    alone or in pairs. Chinese text read as cp1252 gives long runs of accented letters and symbols."""
    total = good = 0
    for run in re.findall(r"[^\x00-\x7f]+", text):
        total += len(run)
        if len(run) <= 2:
            good += sum(1 for ch in run if ch != "\ufffd" and (ch.isalpha() or ch in _WESTERN_SYMBOLS))
    return good / total if total else 0.0


def _decode_head(head: bytes, encoding: str, *, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    return decoder.decode(head, final=complete)


def _looks_binary(text: str) -> bool:
    sample = text[:SAMPLE_BYTES]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\f\v")
    return controls > max(2, len(sample) // 100)


def _starts_with_vcard(text: str) -> bool:
    for line in text.splitlines():
        if line.strip():
            return line.strip().upper().startswith("BEGIN:VCARD")
    return False


def _text_stream(raw: io.BufferedReader, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")


# --- CSV -----------------------------------------------------------------------------------------------


def _open_csv(path: Path, encoding: str, text: str, *, size: int, complete: bool) -> Table:
    records_by_delimiter = {d: _sample_records(text, d, complete=complete) for d in _DELIMITERS}
    delimiter = _choose_delimiter(text, records_by_delimiter)
    records = records_by_delimiter[delimiter]
    header_at = _header_index(records)
    if header_at is None:
        raise ReadError(_("The file has no header row."))
    columns = _unique_columns(records[header_at])
    data_records = sum(1 for record in records[header_at + 1 :] if _is_data(record))
    if complete:
        estimate: int | None = data_records
    else:
        # records per byte in the sample, scaled to the file (the sample's last record may be cut: -1)
        in_sample = _count_records(text, delimiter) - 1
        sample_bytes = len(text.encode(encoding, errors="replace")) or 1
        estimate = max(data_records, int(size * in_sample / sample_bytes) - header_at - 1)
    source = _CsvSource(path, encoding, delimiter, header_at, len(columns), estimate)
    return Table("csv", encoding, delimiter, columns, source)


def _sample_records(text: str, delimiter: str, *, complete: bool) -> list[list[str]]:
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            records.append(record)
            if len(records) >= 200:
                return records
    except csv.Error:
        return records
    if not complete and records:
        records.pop()  # the sample may end in the middle of that record
    return records


def _count_records(text: str, delimiter: str) -> int:
    count = 0
    try:
        for _record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            count += 1
    except csv.Error:
        pass
    return count


def _shape(records: list[list[str]]) -> tuple[int, int]:
    """(how many records have the most common width, that width) — (0, 0) when fields never split."""
    widths = Counter(len(r) for r in records if _is_data(r))
    if not widths:
        return (0, 0)
    width, count = widths.most_common(1)[0]
    return (count, width) if width >= 2 else (0, 0)


def _choose_delimiter(text: str, records_by_delimiter: dict[str, list[list[str]]]) -> str:
    shapes = {d: _shape(records) for d, records in records_by_delimiter.items()}
    best = max(shapes.values())
    if best == (0, 0):
        return ","
    tied = [d for d in _DELIMITERS if shapes[d] == best]
    if len(tied) > 1:
        try:
            sniffed = csv.Sniffer().sniff(text[:16384], delimiters="".join(_DELIMITERS)).delimiter
        except csv.Error:
            sniffed = ""
        if sniffed in tied:
            return sniffed
    return tied[0]


def _is_data(record: list[str]) -> bool:
    return any(value.strip() for value in record)


def _header_index(records: list[list[str]]) -> int | None:
    """The header is the first record with two or more names whose width matches the records after it;
    lines before it (LinkedIn's "Notes:" preamble) are skipped."""
    first_data: int | None = None
    for index, record in enumerate(records):
        if not _is_data(record):
            continue
        if first_data is None:
            first_data = index
        if sum(1 for value in record if value.strip()) < 2:
            continue
        following = [r for r in records[index + 1 : index + 11] if _is_data(r)]
        if not following:
            return index
        widths = Counter(len(r) for r in following).most_common(1)[0][0]
        trimmed = Counter(len(_trim_trailing(r)) for r in following).most_common(1)[0][0]
        if len(record) in (widths, trimmed) or len(_trim_trailing(record)) in (widths, trimmed):
            return index
    return first_data


def _trim_trailing(record: list[str]) -> list[str]:
    end = len(record)
    while end and not record[end - 1].strip():
        end -= 1
    return record[:end]


def _unique_columns(names: list[Any]) -> list[str]:
    cleaned = [str(name).strip() for name in names]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    columns: list[str] = []
    seen: set[str] = set()
    for position, name in enumerate(cleaned, start=1):
        # a stable key, not translated: mappings refer to it across requests and in the background worker
        base = name or f"Column {position}"
        unique, n = base, 1
        while unique in seen:
            n += 1
            unique = f"{base} ({n})"
        seen.add(unique)
        columns.append(unique)
    return columns


def _clean(value: str) -> str:
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _as_row(columns: list[str], values: list[str], delimiter: str) -> dict[str, str]:
    width = len(columns)
    row = {column: _clean(values[i]) if i < len(values) else "" for i, column in enumerate(columns)}
    extra = _trim_trailing(values[width:])
    if extra:
        row[EXTRA_KEY] = (delimiter or "\t").join(_clean(v) for v in extra)
    return row


@dataclass
class _CsvSource:
    path: Path
    encoding: str
    delimiter: str
    header_at: int  # csv records before the header (a preamble)
    width: int
    count: int | None

    def estimate(self) -> int | None:
        return self.count

    def rows(self, columns: list[str]) -> Iterator[dict[str, str]]:
        with self.path.open("rb") as raw, _text_stream(raw, self.encoding) as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            try:
                for _skipped in range(self.header_at + 1):
                    next(reader, None)
                for record in reader:
                    if _is_data(record):
                        yield _as_row(columns, record, self.delimiter)
            except csv.Error as exc:
                raise ReadError(
                    _("Line %(line)d of the file could not be read: %(error)s")
                    % {"line": reader.line_num, "error": exc}
                ) from exc


# --- XLSX ----------------------------------------------------------------------------------------------

_TIME_CODES = re.compile(r"h|s|am/pm|a/p", re.IGNORECASE)


def _cell_text(value: Any, number_format: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        fmt = re.sub(r'"[^"]*"|\[[^\]]*\]', "", number_format or "")
        if value.time() == dt.time(0) and not _TIME_CODES.search(fmt):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def _open_xlsx(path: Path) -> Table:
    source = _XlsxSource(path)
    book = source.load()
    try:
        if not book.worksheets:
            raise ReadError(_("The workbook has no sheet."))
        sheet = book.worksheets[0]
        header: list[str] | None = None
        for index, row in enumerate(sheet.iter_rows(), start=1):
            values = [_cell_text(cell.value, getattr(cell, "number_format", "")) for cell in row]
            if any(v.strip() for v in values):
                header, source.header_row = values, index
                break
        max_row = sheet.max_row
    finally:
        book.close()
    if header is None:
        raise ReadError(_("The first sheet of the workbook is empty."))
    source.count = max(0, max_row - source.header_row) if isinstance(max_row, int) else None
    return Table("xlsx", "", "", _unique_columns(header), source)


# A workbook is a zip of XML: legitimate parts shrink 5-20 times. A part that inflates far more, or parts
# that add up to more than a big import could hold, are a "zip bomb" meant to exhaust memory or disk
# (openpyxl reads the shared strings whole, even in read-only mode).
_MAX_INFLATED = 4 * 1024**3
_MAX_RATIO, _RATIO_FROM = 200, 16 * 1024**2


def _refuse_zip_bomb(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(_("This file could not be read as an Excel workbook (.xlsx).")) from exc
    total = sum(part.file_size for part in parts)
    swollen = any(
        part.file_size > _RATIO_FROM and part.file_size > _MAX_RATIO * max(part.compress_size, 1)
        for part in parts
    )
    if total > _MAX_INFLATED or swollen:
        raise ReadError(
            _("This workbook unpacks to far more data than it holds (%(size)d MB): it is refused.")
            % {"size": total // 1024**2}
        )


@dataclass
class _XlsxSource:
    path: Path
    header_row: int = 1
    count: int | None = None

    def estimate(self) -> int | None:
        return self.count

    def load(self) -> Any:
        from openpyxl import load_workbook

        _refuse_zip_bomb(self.path)
        try:
            return load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # a damaged zip or XML surfaces as many exception types; all mean the same
            raise ReadError(_("This file could not be read as an Excel workbook (.xlsx).")) from exc

    def rows(self, columns: list[str]) -> Iterator[dict[str, str]]:
        book = self.load()
        try:
            sheet = book.worksheets[0]
            for row in sheet.iter_rows(min_row=self.header_row + 1):
                values = [_cell_text(cell.value, getattr(cell, "number_format", "")) for cell in row]
                if _is_data(values):
                    yield _as_row(columns, values, "")
        finally:
            book.close()


# --- vCard ---------------------------------------------------------------------------------------------

# the synthetic columns, in the order they are listed; repeating groups are "TEL#1", "TEL#1:type" ...
_VCARD_SCALARS = (
    "FN",
    "N:family",
    "N:given",
    "N:additional",
    "N:prefix",
    "N:suffix",
    "NICKNAME",
    "KIND",
    "ORG",
    "ORG:unit",
    "TITLE",
    "ROLE",
    "BDAY",
    "ANNIVERSARY",
    "GENDER",
    "NOTE",
    "CATEGORIES",
    "UID",
)
_VCARD_GROUPS = {
    "TEL": ("", ":type"),
    "EMAIL": ("", ":type"),
    "ADR": (":street", ":extended", ":pobox", ":city", ":region", ":code", ":country", ":type"),
    "URL": ("", ":type"),
    "RELATED": ("", ":type"),
}
_GROUP_COLUMN = re.compile(r"(?P<group>[A-Z]+)#(?P<n>\d+)(?P<part>(:[a-z]+)?)\Z")
_NOT_TYPES = frozenset({"quoted-printable", "base64", "b", "8bit", "7bit", "utf-8", "charset"})
_AB_LABEL = re.compile(r"_\$!<(.*)>!\$_")


def vcard_column_order(column: str) -> tuple[int, int, int]:
    """Sort key putting the synthetic vCard columns in a readable order."""
    if column in _VCARD_SCALARS:
        return (0, _VCARD_SCALARS.index(column), 0)
    match = _GROUP_COLUMN.match(column)
    if match and match["group"] in _VCARD_GROUPS:
        parts = _VCARD_GROUPS[match["group"]]
        part = parts.index(match["part"]) if match["part"] in parts else len(parts)
        return (1 + list(_VCARD_GROUPS).index(match["group"]), int(match["n"]), part)
    return (99, 0, 0)


def is_vcard_column(column: str) -> bool:
    return vcard_column_order(column)[0] != 99


def _open_vcard(path: Path, encoding: str) -> Table:
    source = _VcardSource(path, encoding)
    keys: set[str] = set()
    cards = 0
    for _number, text in source.cards():
        cards += 1
        try:
            keys.update(_card_values(text))
        except Exception:  # noqa: S112 - an unreadable card becomes an error row when the rows are read
            continue
    if not cards:
        raise ReadError(_("This file has no vCard in it."))
    source.count = cards
    return Table("vcard", encoding, "", sorted(keys, key=vcard_column_order), source)


@dataclass
class _VcardSource:
    path: Path
    encoding: str
    count: int | None = None

    def estimate(self) -> int | None:
        return self.count

    def cards(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of each BEGIN:VCARD … END:VCARD block, split here rather than by vobject so
        that a card it cannot parse does not stop the cards after it."""
        with self.path.open("rb") as raw, _text_stream(raw, self.encoding) as text:
            lines: list[str] = []
            depth = start = 0
            for number, line in enumerate(text, start=1):
                marker = line.rstrip().upper() if line[:1] not in (" ", "\t") else ""
                if marker == "BEGIN:VCARD":
                    if depth == 0:
                        lines, start = [], number
                    depth += 1
                if depth:
                    lines.append(line)
                if marker == "END:VCARD" and depth:
                    depth -= 1
                    if depth == 0:
                        yield start, "".join(lines)
            if depth:
                yield start, "".join(lines)

    def rows(self, columns: list[str]) -> Iterator[dict[str, str]]:
        for position, (line, text) in enumerate(self.cards(), start=1):
            row = dict.fromkeys(columns, "")
            try:
                values = _card_values(text)
            except Exception as exc:  # vobject raises many kinds of errors on a malformed card
                row[ERROR_KEY] = _("Card %(number)d (line %(line)d) could not be read: %(error)s") % {
                    "number": position,
                    "line": line,
                    "error": str(exc) or type(exc).__name__,
                }
            else:
                row.update((key, value) for key, value in values.items() if key in row)
            yield row


def _card_values(text: str) -> dict[str, str]:
    import vobject

    if not text.rstrip().upper().endswith("END:VCARD"):
        text = text.rstrip("\r\n") + "\r\nEND:VCARD\r\n"
    card = next(vobject.readComponents(text, ignoreUnreadable=True, allowQP=True), None)
    if card is None or str(card.name).upper() != "VCARD":
        raise ValueError(_("not a vCard"))
    return _CardReader(card).values()


class _CardReader:
    def __init__(self, card: Any) -> None:
        self.card = card
        self.row: dict[str, str] = {}
        self.counters: Counter[str] = Counter()
        self.labels = {
            str(line.group).lower(): _ab_label(_value_text(line))
            for line in card.getChildren()
            if line.group and line.name.upper() == "X-ABLABEL"
        }

    def values(self) -> dict[str, str]:
        handlers: dict[str, Callable[[Any], None]] = {
            "FN": lambda line: self.scalar("FN", _value_text(line)),
            "N": self.name,
            "NICKNAME": lambda line: self.scalar("NICKNAME", _value_text(line)),
            "KIND": lambda line: self.scalar("KIND", _value_text(line).lower()),
            "X-ABSHOWAS": self.show_as,
            "ORG": self.org,
            "TITLE": lambda line: self.scalar("TITLE", _value_text(line)),
            "ROLE": lambda line: self.scalar("ROLE", _value_text(line)),
            "BDAY": lambda line: self.scalar("BDAY", _value_text(line)),
            "ANNIVERSARY": lambda line: self.scalar("ANNIVERSARY", _value_text(line)),
            "GENDER": lambda line: self.scalar("GENDER", _value_text(line)),
            "NOTE": lambda line: self.append("NOTE", _value_text(line), "\n"),
            "CATEGORIES": lambda line: self.append("CATEGORIES", _value_text(line, " ::: "), " ::: "),
            "UID": lambda line: self.scalar("UID", _value_text(line)),
            "TEL": lambda line: self.repeated("TEL", _tel_text(_value_text(line)), line),
            "EMAIL": lambda line: self.repeated("EMAIL", _strip_scheme(_value_text(line), "mailto:"), line),
            "URL": lambda line: self.repeated("URL", _value_text(line), line),
            "RELATED": lambda line: self.repeated("RELATED", _value_text(line), line),
            "ADR": self.address,
        }
        for line in self.card.getChildren():
            handler = handlers.get(str(line.name).upper())
            if handler is not None:
                handler(line)
        return {key: value for key, value in self.row.items() if value}

    def scalar(self, key: str, value: str) -> None:
        if value and not self.row.get(key):  # the first one wins (vCard 4.0 ALTID alternatives follow it)
            self.row[key] = value

    def append(self, key: str, value: str, separator: str) -> None:
        if value:
            self.row[key] = f"{self.row[key]}{separator}{value}" if self.row.get(key) else value

    def name(self, line: Any) -> None:
        if any(key.startswith("N:") for key in self.row):
            return
        value = line.value
        if isinstance(value, str):
            parts = (value.split(";") + [""] * 5)[:5]
            family, given, additional, prefix, suffix = parts
        else:
            family, given, additional, prefix, suffix = (
                _joined(getattr(value, attr, ""), " ")
                for attr in ("family", "given", "additional", "prefix", "suffix")
            )
        for key, part in zip(
            ("N:family", "N:given", "N:additional", "N:prefix", "N:suffix"),
            (family, given, additional, prefix, suffix),
            strict=True,
        ):
            self.scalar(key, part.strip())

    def org(self, line: Any) -> None:
        value = line.value
        parts = [p.strip() for p in (value if isinstance(value, list) else str(value).split(";"))]
        parts = [str(p) for p in parts if p]
        if parts:
            self.scalar("ORG", parts[0])
            self.scalar("ORG:unit", ", ".join(parts[1:]))

    def show_as(self, line: Any) -> None:
        if _value_text(line).upper() == "COMPANY":
            self.scalar("KIND", "org")

    def repeated(self, group: str, value: str, line: Any) -> None:
        if not value:
            return
        self.counters[group] += 1
        key = f"{group}#{self.counters[group]}"
        self.row[key] = value
        self.row[f"{key}:type"] = _types(line, self.labels)

    def address(self, line: Any) -> None:
        value = line.value
        names = ("pobox", "extended", "street", "city", "region", "code", "country")
        if isinstance(value, str):
            parts = dict(zip(names, (value.split(";") + [""] * 7)[:7], strict=True))
        else:
            attrs = ("box", "extended", "street", "city", "region", "code", "country")
            parts = {n: _joined(getattr(value, a, ""), ", ") for n, a in zip(names, attrs, strict=True)}
        parts = {n: p.strip() for n, p in parts.items() if p.strip()}
        if not parts:
            return
        self.counters["ADR"] += 1
        key = f"ADR#{self.counters['ADR']}"
        for name, part in parts.items():
            self.row[f"{key}:{name}"] = part
        self.row[f"{key}:type"] = _types(line, self.labels)


def _joined(value: Any, separator: str) -> str:
    if isinstance(value, (list, tuple)):
        return separator.join(str(v).strip() for v in value if str(v).strip())
    return str(value or "")


def _value_text(line: Any, separator: str = ", ") -> str:
    value = line.value
    if isinstance(value, bytes):
        charset = (line.params.get("CHARSET") or ["utf-8"])[0]
        try:
            value = value.decode(charset, errors="replace")
        except LookupError:
            value = value.decode("utf-8", errors="replace")
    elif isinstance(value, (list, tuple)):
        value = separator.join(str(v).strip() for v in value if str(v).strip())
    return _clean(str(value if value is not None else "")).strip()


def _strip_scheme(value: str, scheme: str) -> str:
    return value[len(scheme) :].strip() if value.lower().startswith(scheme) else value


def _tel_text(value: str) -> str:
    """A ``tel:`` URI (vCard 4.0) as a number people write: ``tel:+1-418-656-9254;ext=102`` →
    ``+1-418-656-9254 ext. 102``."""
    if not value.lower().startswith("tel:"):
        return value
    number, *params = value[4:].split(";")
    extension = next((p[4:] for p in params if p.lower().startswith("ext=")), "")
    return f"{number} ext. {extension}" if extension else number


def _ab_label(text: str) -> str:
    """Apple's ``item1.X-ABLabel``: ``_$!<Mobile>!$_`` is a built-in label, anything else the user's own."""
    match = _AB_LABEL.fullmatch(text)
    return (match.group(1) if match else text).strip().lower()


def _types(line: Any, labels: dict[str, str]) -> str:
    tokens: list[str] = []
    if line.group and str(line.group).lower() in labels:
        tokens.append(labels[str(line.group).lower()])
    for value in line.params.get("TYPE", []):
        tokens.extend(str(value).split(","))
    tokens.extend(str(value) for value in getattr(line, "singletonparams", []))
    if "1" in [str(p).strip() for p in line.params.get("PREF", [])]:
        tokens.append("pref")
    cleaned: list[str] = []
    for token in tokens:
        token = token.strip().strip('"').lower()
        if token and token not in _NOT_TYPES and token not in cleaned:
            cleaned.append(token)
    return ",".join(cleaned)
