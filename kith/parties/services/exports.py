"""Customer export: the list as the user filtered it, with the columns they chose, to CSV, XLSX, vCard or
JSON, as a background job (``kith.jobs``) with a progress bar. Rows come in the order the customers were
created; with a search text, in the search's order (newest first).

The rules are the list's rules: only customers the user may see (visibility is the search's), and each
value as the user may see it (hidden fields come out empty, sensitive ones masked; a value unmasked by an
approved access request is recorded as a view under that grant). Exporting needs the ``export`` permission
on customers, checked when the export is asked for and again when it runs. Every export is one row in the
access log with the ids of the customers exported.
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections, models
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kith.audit.choices import AccessKind
from kith.audit.services import log_access
from kith.core.crypto import PREFIX as TOKEN_PREFIX
from kith.core.crypto import EncryptedMixin, keyring, reveal, seal
from kith.core.exports import CsvWriter, JsonWriter, RowWriter, XlsxWriter
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.parties.choices import CustomerKind
from kith.parties.models import Address, Customer, CustomFieldDefinition, Email, Phone
from kith.parties.selectors.search import (
    MAX_LIMIT,
    CustomerFilters,
    _filtered,
    customer_search,
    loggable_query,
)
from kith.parties.services.contact_points import format_phone
from kith.parties.services.customers import MASTER_FIELDS
from kith.security.access_requests import note_sensitive_view
from kith.security.masking import (
    CUSTOM_PREFIX,
    FieldView,
    active_grants,
    apply_to_dict,
    check_filterable,
    field_view,
    mask,
)
from kith.security.rules import EXPORT, require_permission

JOB_KIND = "customers.export"
# parameters of the list or of the export form that select no customers
NOT_FILTERS = frozenset({"cursor", "format", "columns", "csrfmiddlewaretoken", "sort", "limit", "fields"})
FORMATS: dict[str, tuple[str, Any]] = {
    "csv": (".csv", gettext_lazy("CSV (Excel, any spreadsheet)")),
    "xlsx": (".xlsx", gettext_lazy("Excel workbook (XLSX)")),
    "vcf": (".vcf", gettext_lazy("vCard 3.0 (address books)")),
    "json": (".json", gettext_lazy("JSON")),
}
DEFAULT_COLUMNS = (
    "customer_number",
    "display_name",
    "kind",
    "status",
    "owner",
    "phones",
    "emails",
    "created_at",
)
_LISTS = ("phones", "emails", "addresses", "categories", "tags", "roles")
_PLAIN = tuple(f for f in MASTER_FIELDS if f != "owner")
PAGE = MAX_LIMIT


def export_columns() -> list[tuple[str, str]]:
    """Every column an export may hold, as (key, header): master data, contact points, classification,
    stamps, then the custom fields in their order."""

    def header(name: str) -> str:
        return str(getattr(Customer._meta.get_field(name), "verbose_name", name))

    columns = [
        ("customer_number", header("customer_number")),
        ("kind", header("kind")),
    ]
    columns += [(name, header(name)) for name in MASTER_FIELDS]
    columns += [
        ("phones", _("phones")),
        ("emails", _("emails")),
        ("addresses", _("addresses")),
        ("categories", _("categories")),
        ("tags", _("tags")),
        ("roles", _("roles")),
        ("created_at", header("created_at")),
        ("updated_at", header("updated_at")),
    ]
    columns += [
        (f"{CUSTOM_PREFIX}{key}", label)
        for key, label in CustomFieldDefinition.objects.filter(is_active=True)
        .order_by("position", "label")
        .values_list("key", "label")
    ]
    return columns


def _query(params: dict[str, Any]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in params.items():
        for value in values if isinstance(values, list) else [values]:
            if value not in (None, ""):
                query.appendlist(str(key), str(value))
    return query


_Q_LABEL = "jobs.job.params.q"  # the search text of a queued export is kept encrypted (it may be a phone)


def _filters(user: Any, params: dict[str, Any]) -> CustomerFilters:
    params = dict(params)
    if params.get("q"):
        values = params["q"] if isinstance(params["q"], list) else [params["q"]]
        params["q"] = [reveal(v, _Q_LABEL) for v in values]
    filters = CustomerFilters.from_params(_query(params))
    check_filterable(
        user,
        "customer",
        [f"custom.{k}" for k in filters.custom],
        param=lambda n: "cf_" + n[len(CUSTOM_PREFIX) :],
    )
    return filters


def start_customer_export(
    *,
    actor: Any,
    filters: dict[str, Any],
    file_format: str,
    columns: Iterable[str] | None = None,
    source: str | None = None,
    enqueue: bool = True,
) -> Job:
    """Queue an export of the customers ``filters`` (list parameters: ``q``, ``status``, ``cf_<key>`` ...)
    select; bad input raises one ValidationError keyed by field (``format``, ``columns``, a filter)."""
    require_permission(actor, "customer", EXPORT)
    errors: dict[str, list[str]] = {}
    if file_format not in FORMATS:
        errors["format"] = [_("Choose one of: %(formats)s.") % {"formats": ", ".join(FORMATS)}]
    chosen = list(columns or DEFAULT_COLUMNS)
    known = {key for key, _label in export_columns()}
    unknown = [c for c in chosen if c not in known]
    if unknown:
        errors["columns"] = [_("Unknown column: %(names)s.") % {"names": ", ".join(unknown[:10])}]
    elif not chosen:
        errors["columns"] = [_("Choose at least one column.")]
    clean: dict[str, list[str]] = {}
    for key, value in filters.items():
        values = [
            str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v not in (None, "")
        ]
        if values and key not in NOT_FILTERS:
            clean[str(key)] = values
    try:
        _filters(actor, clean)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if clean.get("q"):
        clean["q"] = [seal(v, _Q_LABEL) for v in clean["q"]]
    label = str(FORMATS[file_format][0]).lstrip(".").upper()
    return jobs.start(
        JOB_KIND,
        actor=actor,
        params={"filters": clean, "format": file_format, "columns": list(dict.fromkeys(chosen))},
        title=_("Customer export (%(format)s)") % {"format": label},
        source=source,
        enqueue=enqueue,
    )


# --- the run ------------------------------------------------------------------------------------------
#
# The rows are read in chunks of CHUNK customers: first the ids (one query, in id order; a search text pages
# through ``customer_search``), then per chunk the customers' columns the export needs and each related
# list it shows, one query each (an id range when the chunk is dense), converted column by column. Masking
# is decided once per field view (one per kind of customer, plus one per customer opened by an access
# grant), not per cell; the writers get plain lists of values.

CHUNK = 2000
_ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "phones": ("number", "extension"),
    "emails": ("address",),
    "addresses": ("line1", "line2", "postal_code", "city", "region", "country"),
}
_VCARD_COLUMNS = (
    "customer_number",
    "kind",
    "display_name",
    "family_name",
    "given_name",
    "legal_name",
    "birth_date",
    "notes",
    "phones",
    "emails",
    "addresses",
    "tags",
)
_VCARD_ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "phones": ("label", "number", "extension", "is_primary"),
    "emails": ("label", "address", "is_primary"),
    "addresses": ("label", "line1", "line2", "postal_code", "city", "region", "country", "is_primary"),
}
_DATED = ("created_at", "updated_at")
_CONTACT_MODELS: dict[str, Any] = {"phones": Phone, "emails": Email, "addresses": Address}


class _PhoneFormatter:
    """``format_phone`` (international format) for many numbers: the same text, many times faster.

    ``phonenumbers.parse`` + ``format_number`` cost tens of µs a number. A stored number is already E.164,
    so the country code is split off directly and the region's international formats (compiled once per
    country code) are tried in phonenumbers' own order. A number a plain split could read differently
    from ``parse`` (a leading zero, a national prefix the parser might strip, an odd length) or metadata
    of another shape goes through ``format_phone``.

    Every format pattern of the metadata is made of digit groups only, and its leading-digits pattern and
    the national prefix read at most a few digits: what applies to a number then depends only on its
    first digits and its length, and is remembered per (country code, first digits, length)."""

    _CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    _GROUP = re.compile(r"\\([1-9])")
    _DIGIT_GROUPS = re.compile(r"(?:\((?:\?:)?|\)|\\d|\{\d+(?:,\d+)?\}|\||\?)*")
    _MAX_WIDTH = 8  # digits a pattern may read for its decision to be remembered
    _MEMO_SIZE = 100_000
    _FALLBACK = object()  # remembered decision: phonenumbers formats such a number

    def __init__(self) -> None:
        self._plans: dict[str, Any] = {}
        self._memo: dict[tuple[str, str, int], Any] = {}

    @classmethod
    def _width(cls, pattern: str | None) -> int:
        """The most characters ``pattern`` can read (more than _MAX_WIDTH when unknown); "$" reads none:
        the length is part of what is remembered."""
        if not pattern:
            return 0
        if any(mark in pattern for mark in ("\\b", "\\B", "(?=", "(?!", "(?<")):
            return cls._MAX_WIDTH + 1
        try:
            from re import _parser  # type: ignore[attr-defined]

            return int(_parser.parse(pattern).getwidth()[1])
        except Exception:  # another Python's regular expression internals: nothing remembered
            return cls._MAX_WIDTH + 1

    def _plan(self, code: str) -> Any:
        """(national prefix, formats, "+code ", digits that decide or None) of a country code."""
        from phonenumbers.phonemetadata import PhoneMetadata

        region = phonenumbers.region_code_for_country_code(int(code))
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(int(code), region.upper())
        if metadata is None:
            return None
        prefix = metadata.national_prefix_for_parsing
        formats = []
        width = self._width(prefix)
        for f in metadata.intl_number_format or metadata.number_format:
            if f.pattern is None or f.format is None:
                return None  # metadata of another shape: phonenumbers formats these numbers
            rule = f.format.replace("{", "{{").replace("}", "}}")
            leading = f.leading_digits_pattern[-1] if f.leading_digits_pattern else None
            width = max(width, self._width(leading))
            if not self._DIGIT_GROUPS.fullmatch(f.pattern):
                width = self._MAX_WIDTH + 1
            formats.append(
                (
                    re.compile(leading) if leading else None,
                    re.compile(f.pattern),
                    self._GROUP.sub(lambda m: f"{{{int(m[1]) - 1}}}", rule),
                )
            )
        decided_by = max(1, width) if width <= self._MAX_WIDTH else None  # the first digit: a leading zero
        return (re.compile(prefix) if prefix else None, formats, f"+{code} ", decided_by)

    def _decide(self, plan: Any, national: str) -> Any:
        """phonenumbers' choice for ``national``: the first format whose leading digits and whole pattern
        match (None: none does), or _FALLBACK when a plain split may not read it as ``parse`` does."""
        prefix, formats, _head, _width = plan
        if not 2 <= len(national) <= 17 or national[0] == "0":
            return self._FALLBACK
        if prefix is not None and prefix.match(national):
            return self._FALLBACK
        for leading, pattern, rule in formats:
            if leading is not None and not leading.match(national):
                continue
            if pattern.fullmatch(national):
                return pattern, rule
        return None

    def __call__(self, e164: str) -> str:
        digits = e164[1:]
        if e164[:1] != "+" or not (digits.isascii() and digits.isdigit()):
            return format_phone(e164)
        codes = self._CODES
        code = digits[:1] if digits[:1] in codes else digits[:2] if digits[:2] in codes else digits[:3]
        plan = self._plans.get(code, False)
        if plan is False:
            plan = self._plans[code] = self._plan(code) if code in codes else None
        if plan is None:
            return format_phone(e164)
        national = digits[len(code) :]
        if plan[3] is None:
            chosen = self._decide(plan, national)
        else:
            key = (code, national[: plan[3]], len(national))
            chosen = self._memo.get(key, self)
            if chosen is self:
                chosen = self._decide(plan, national)
                if len(self._memo) < self._MEMO_SIZE:
                    self._memo[key] = chosen
        if chosen is None:
            return plan[2] + national
        if chosen is self._FALLBACK:
            return format_phone(e164)
        pattern, rule = chosen
        found = pattern.match(national)  # what re.sub, phonenumbers' way, replaces
        if found is None or found.end() != len(national) or None in found.groups():
            return format_phone(e164)
        return plan[2] + rule.format(*found.groups())


def _id_chunks(user: Any, filters: CustomerFilters) -> tuple[int | None, Iterator[list[int]]]:
    """How many customers the export holds, and their ids, CHUNK at a time: for a search text in the
    search's own order (its matching and typo correction, page by page), else in the order they were
    created (by id: each chunk is then a narrow id range, read by range from every table)."""
    if filters.q:
        first = customer_search(user=user, filters=filters, limit=PAGE, with_total=True)

        def pages() -> Iterator[list[int]]:
            page = first
            while True:
                yield [int(r["id"]) for r in page.rows]
                if not page.next_cursor:
                    return
                page = customer_search(user=user, filters=filters, cursor=page.next_cursor, limit=PAGE)

        return first.total, pages()
    ids = array("q", _filtered(user, filters).order_by("id").values_list("id", flat=True).iterator(10_000))
    return len(ids), (ids[i : i + CHUNK].tolist() for i in range(0, len(ids), CHUNK))


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _opener(field: Any) -> Callable[[Any], Any]:
    """``field.to_python`` for the tokens of an encrypted column, opened with the keyring's ciphers
    directly (``open_token``'s per-value lookups and base64 wrappers were a third of an export's time).
    Anything unusual (another key, a damaged value, a value that is no token) goes through the field."""
    ciphers = keyring().ciphers
    label = field.label.encode()
    to_python, text_to_plain = field.to_python, field.text_to_plain
    start = len(TOKEN_PREFIX)
    decode = binascii.a2b_base64

    def opened(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not str or not value.startswith(TOKEN_PREFIX):
            return to_python(value)
        kid, _sep, body = value[start:].partition(":")
        cipher = ciphers.get(kid)
        if cipher is None:
            return to_python(value)
        try:
            raw = decode(body.encode().translate(_URLSAFE))
            return text_to_plain(cipher.decrypt(raw[:12], raw[12:], label).decode())
        except Exception:  # the field's own path raises the right error
            return to_python(value)

    return opened


def _quick_converter(field: Any, convs: list[Any], expression: Any, connection: Any) -> Callable[[Any], Any]:
    """One column's conversion from the database value, as the ORM makes it: date-times and encrypted
    values through a shorter path (they are most of the cost of reading an export), the rest as is."""

    def orm(value: Any) -> Any:
        for convert in convs:
            value = convert(value, expression, connection)
        return value

    if isinstance(field, EncryptedMixin) and len(convs) == 1:
        return _opener(field)
    if isinstance(field, models.DateTimeField) and connection.vendor == "sqlite" and len(convs) == 1:
        # Django's SQLite converter, for the values the driver already parsed (stored in UTC)
        zone = connection.timezone if settings.USE_TZ else None

        def when(value: Any) -> Any:
            if type(value) is dt.datetime and value.tzinfo is None and zone is not None:
                return value.replace(tzinfo=zone)
            return orm(value)

        return when
    return orm


def _quick_loaders(cursor: Any, connection: Any) -> None:
    """PostgreSQL: this cursor reads date-times with psycopg's own C loader. Django's loader subclasses
    the pure-Python one to set its time zone object, ten times slower on an export's hundred thousand
    values; both give the same aware instants (the session's time zone is UTC)."""
    if connection.vendor != "postgresql":
        return
    import psycopg

    raw = getattr(cursor, "cursor", None)  # the psycopg cursor inside Django's wrapper
    try:
        oid = psycopg.adapters.types["timestamptz"].oid
        loader = psycopg.adapters.get_loader(oid, psycopg.pq.Format.TEXT)
        if raw is not None and loader is not None:
            raw.adapters.register_loader("timestamptz", loader)
    except Exception:  # another driver setup: Django's loader stays
        return


def _read(
    qs: QuerySet[Any], fields: list[str]
) -> tuple[list[tuple[Any, ...]], dict[int, Callable[[Any], Any]]]:
    """The rows of ``qs.values_list(*fields)`` as the driver gives them, with one ``fetchall``, and the
    conversion each column needs (by position; most need none)."""
    query = qs.values_list(*fields)
    connection = connections[query.db]
    compiler = query.query.get_compiler(using=query.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a condition nothing can match (an empty list of ids)
        return [], {}
    selected = [s[0] for s in compiler.select[: compiler.col_count]]
    converters = {
        pos: _quick_converter(
            getattr(expression, "target", None) or expression.output_field, convs, expression, connection
        )
        for pos, (convs, expression) in compiler.get_converters(selected).items()
    }
    with connection.cursor() as cursor:
        _quick_loaders(cursor, connection)
        cursor.execute(sql, params)
        return cursor.fetchall(), converters


def _columns(qs: QuerySet[Any], fields: list[str]) -> list[Sequence[Any]]:
    """``qs.values_list(*fields)`` as columns (one sequence per field), converted column by column: the
    ORM converts value by value, which cost more than the query on an export's hundred thousand rows."""
    rows, converters = _read(qs, fields)
    if not rows:
        return [() for _field in fields]
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for pos, convert in converters.items():
        columns[pos] = tuple(map(convert, columns[pos]))
    return columns


def _rows(qs: QuerySet[Any], fields: list[str]) -> list[tuple[Any, ...]]:
    """``qs.values_list(*fields)`` as a list of tuples (the same values as ``_columns``)."""
    rows, converters = _read(qs, fields)
    if not rows or not converters:
        return rows
    if len(converters) == 1:  # a phone number, say: only that value of each row is converted
        ((pos, convert),) = converters.items()
        return [(*row[:pos], convert(row[pos]), *row[pos + 1 :]) for row in rows]
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for pos, convert in converters.items():
        columns[pos] = tuple(map(convert, columns[pos]))
    return list(zip(*columns, strict=True))


@dataclass
class _Chunk:
    """Customers of one chunk, column by column, unmasked: ``columns`` per field (``owner`` as a name,
    ``custom_data`` as stored), ``lists`` per related list (customer id -> items)."""

    ids: list[int]
    columns: dict[str, Sequence[Any]]
    lists: dict[str, dict[int, list[Any]]]

    def source(self, key: str) -> Sequence[Any]:
        """What the column ``key`` is computed from: a field's values, the custom data, a list's items."""
        if key in self.lists:
            items = self.lists[key]
            return [items.get(pk, ()) for pk in self.ids]
        if key.startswith(CUSTOM_PREFIX):
            return self.columns["custom_data"]
        return self.columns[key]

    def record(self, i: int, item_fields: dict[str, tuple[str, ...]]) -> dict[str, Any]:
        """Row ``i`` as the record dict the masking rules and the vCard writer take (items as dicts)."""
        record = {name: column[i] for name, column in self.columns.items()}
        for name, items in self.lists.items():
            fields = item_fields.get(name)
            found = items.get(self.ids[i], ())
            record[name] = [dict(zip(fields, item, strict=True)) for item in found] if fields else list(found)
        return record


class _Reader:
    """Reads the chunks of an export: the customers' fields the columns need and each related list they
    show, one query each (an id range when the chunk is dense in ids). ``views`` says what the user may
    see of each customer."""

    def __init__(self, user: Any, columns: Iterable[str], *, item_fields: dict[str, tuple[str, ...]]) -> None:
        self.user = user
        wanted = set(columns)
        self.lists = [name for name in _LISTS if name in wanted]
        self.item_fields = item_fields
        self.fields = ["id", "kind", "display_name"]  # the views need them
        self.fields += [
            name
            for name in ("customer_number", *_PLAIN, *_DATED)
            if name in wanted and name not in self.fields
        ]
        if "owner" in wanted:
            self.fields.append("owner_id")
        if any(name.startswith(CUSTOM_PREFIX) for name in wanted):
            self.fields.append("custom_data")
        self.owners: dict[int, str] = {}
        self._kind_views: dict[str, FieldView] = {}

    @staticmethod
    def _among(ids: list[int], column: str) -> Q:
        """The chunk's customers by ``column``: an id range when the chunk is dense in it (an index range
        scan; the few ids in the range that are not in the chunk are dropped after reading), else the ids."""
        low, high = min(ids), max(ids)
        if high - low < 2 * len(ids):
            return Q(**{f"{column}__gte": low, f"{column}__lte": high})
        return Q(**{f"{column}__in": ids})

    def read(self, ids: list[int]) -> _Chunk:
        if not ids:
            return _Chunk([], dict.fromkeys(self.fields, ()), {})
        qs = Customer.objects.filter(self._among(ids, "pk")).order_by("pk")
        columns = dict(zip(self.fields, _columns(qs, self.fields), strict=True))
        found = columns["id"]
        if list(found) != ids:  # ids of the range not in the chunk, rows deleted since, a search's order
            at = {pk: i for i, pk in enumerate(found)}
            keep = [
                at[pk] for pk in ids if pk in at
            ]  # a customer deleted since the ids were read is left out
            columns = {name: [column[i] for i in keep] for name, column in columns.items()}
        chunk_ids = list(columns["id"])
        if "owner_id" in columns:
            columns["owner"] = self._owner_names(columns.pop("owner_id"))
        wanted = set(chunk_ids)
        lists = {name: self._related(name, ids, wanted) for name in self.lists}
        return _Chunk(chunk_ids, columns, lists)

    def _owner_names(self, owner_ids: Sequence[int | None]) -> list[str]:
        missing = {pk for pk in owner_ids if pk and pk not in self.owners}
        if missing:
            from django.contrib.auth import get_user_model

            for owner in get_user_model().objects.filter(pk__in=missing):
                self.owners[owner.pk] = str(owner)
        owners = self.owners
        return [owners.get(pk or 0, "") for pk in owner_ids]

    def _related(self, name: str, ids: list[int], wanted: set[int]) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = defaultdict(list)
        among = self._among(ids, "customer_id")
        if name in _CONTACT_MODELS:
            fields = self.item_fields[name]
            qs = _CONTACT_MODELS[name].objects.filter(among).order_by("-is_primary", "id")
            rows = _rows(qs, ["customer_id", *fields])
            if len(wanted) == max(ids) - min(ids) + 1:  # every id of the range: nothing to leave out
                for row in rows:
                    out[row[0]].append(row[1:])
            else:
                for row in rows:
                    if row[0] in wanted:
                        out[row[0]].append(row[1:])
            return out
        attr = {"categories": "category__name", "tags": "tag__name", "roles": "partyrole__name"}[name]
        through = getattr(Customer, name).through
        for customer_id, value in through.objects.filter(among).values_list("customer_id", attr):
            if customer_id in wanted:
                out[customer_id].append(value)
        return out

    def views(self, chunk: _Chunk) -> list[FieldView]:
        """The field view of each customer: one per kind of customer, and its own for a customer opened
        by an approved access request (its sensitive values then count as viewed: ``note_sensitive_view``)."""
        granted = active_grants(self.user, "customer", chunk.ids)
        kinds, names = chunk.columns["kind"], chunk.columns["display_name"]
        out = []
        for pk, kind, name in zip(chunk.ids, kinds, names, strict=True):
            view = self._kind_views.get(kind)
            if pk in granted or view is None:
                view = field_view(self.user, {"id": pk, "kind": kind})
                if pk not in granted:
                    # kinds seen alike (no masking that depends on the kind) share one view: one set of cells
                    view = next((v for v in self._kind_views.values() if v == view), view)
                    self._kind_views[kind] = view
            if view.grant_id and view.granted:
                shown = {"id": pk, "display_name": name if view.shows("display_name") else ""}
                note_sensitive_view(self.user, shown, view, channel="export")
            out.append(view)
        return out


Cell = Callable[[Any], Any]  # a column's value (a list's items, the custom data) -> what the cell shows


def _list_cell(name: str, fields: tuple[str, ...], view: FieldView, phone_text: Callable[[str], str]) -> Cell:
    """The cell of a related list: items joined with '; ' (addresses with ' | '), masked items masked,
    phones in international format (as typed when masked), a hidden list empty."""
    if not view.shows(name):
        return lambda items: ""
    entry = view.masked.get(name)
    masked = [i for i, f in enumerate(fields) if entry is not None and f in entry.item_attrs]

    def shown(items: Any) -> Any:
        if not masked or entry is None:
            return items
        return [
            tuple(mask(entry.kind, v) if n in masked else v for n, v in enumerate(item)) for item in items
        ]

    if name == "phones":
        show = str if view.is_masked("phones") else phone_text
        return lambda items: "; ".join(
            [
                show(number or "") + (f" ext. {extension}" if extension else "")
                for number, extension in shown(items)
            ]
        )
    if name == "emails":
        return lambda items: "; ".join([str(address or "") for (address,) in shown(items)])
    if name == "addresses":
        return lambda items: " | ".join([", ".join([str(p) for p in item if p]) for item in shown(items)])
    return lambda items: "; ".join([str(v) for v in items])


def _custom_cell(key: str, view: FieldView) -> Cell:
    name = f"{CUSTOM_PREFIX}{key}"
    if not view.shows(name):
        return lambda custom: None
    entry = view.masked.get(name)

    def cell(custom: Any) -> Any:
        if not custom or key not in custom:
            return None
        value = custom[key]
        if entry is not None:
            return mask(entry.kind, value)
        return "; ".join(map(str, value)) if isinstance(value, list) else value

    return cell


def _field_cell(name: str, view: FieldView) -> Cell | None:
    """None: the value as it is (most columns: no work per cell)."""
    if not view.shows(name):
        return lambda value: None
    entry = view.masked.get(name)
    if entry is None:
        return None
    kind = entry.kind
    return lambda value: value if value in (None, "") else mask(kind, value)


class _Table:
    """The export's columns for a chunk, as the user may see them: what each column shows is decided once
    per field view and column; a column every view shows as it is costs nothing per cell."""

    def __init__(self, keys: list[str], item_fields: dict[str, tuple[str, ...]]) -> None:
        self.keys = keys
        self.item_fields = item_fields
        self.phone_text = _PhoneFormatter()
        self._cells: dict[int, tuple[FieldView, list[Cell | None]]] = {}  # id(view) -> (view, cells)

    def _cells_of(self, view: FieldView) -> list[Cell | None]:
        known = self._cells.get(id(view))
        if known is None:
            cells: list[Cell | None] = []
            for key in self.keys:
                if key in _LISTS:
                    cells.append(_list_cell(key, self.item_fields.get(key, ()), view, self.phone_text))
                elif key.startswith(CUSTOM_PREFIX):
                    cells.append(_custom_cell(key[len(CUSTOM_PREFIX) :], view))
                else:
                    cells.append(_field_cell(key, view))
            known = self._cells[id(view)] = (view, cells)  # the view kept: its id stays its own
        return known[1]

    def columns(self, chunk: _Chunk, views: list[FieldView]) -> list[Sequence[Any]]:
        distinct = list({id(v): v for v in views}.values())
        per_view = [self._cells_of(v) for v in distinct]
        position = {id(v): i for i, v in enumerate(distinct)}
        which = [position[id(v)] for v in views] if len(distinct) > 1 else []
        out: list[Sequence[Any]] = []
        for n, key in enumerate(self.keys):
            source = chunk.source(key)
            cells = [c[n] for c in per_view]
            if all(c is None for c in cells):
                out.append(source)
            elif len(cells) == 1 or all(c is cells[0] for c in cells):
                out.append(list(map(cells[0], source)))  # type: ignore[arg-type]
            else:
                out.append(
                    [v if cells[w] is None else cells[w](v) for w, v in zip(which, source, strict=True)]  # type: ignore[misc]
                )
        return out


class VCardWriter:
    """vCard 3.0, one card per customer: names, organisation, phones, emails, addresses, birthday, tags.
    A masked value is written as shown to the user (a masked birth date is left out: it is not a date)."""

    _TEL_TYPES = {"mobile": "CELL", "work": "WORK", "home": "HOME", "fax": "FAX"}

    def __init__(self, path: Path) -> None:
        self.handle = path.open("w", encoding="utf-8", newline="")
        self.phone_text = _PhoneFormatter()

    def write_record(self, record: dict[str, Any], view: FieldView) -> None:
        import vobject

        card = vobject.vCard()
        name = str(record.get("display_name") or record.get("customer_number") or "")
        card.add("fn").value = name
        if record.get("kind") == CustomerKind.PERSON:
            card.add("n").value = vobject.vcard.Name(
                family=str(record.get("family_name") or ""), given=str(record.get("given_name") or "")
            )
        else:
            card.add("n").value = vobject.vcard.Name(family=name)
            card.add("org").value = [str(record.get("legal_name") or name)]
        masked_phones = view.is_masked("phones")
        for phone in record.get("phones") or []:
            tel = card.add("tel")
            number = str(phone.get("number") or "")
            tel.value = number if masked_phones else self.phone_text(number)
            if phone.get("extension"):
                tel.value += f" ext. {phone['extension']}"
            tel.type_param = self._TEL_TYPES.get(str(phone.get("label")), "VOICE")
        for email in record.get("emails") or []:
            item = card.add("email")
            item.value = str(email.get("address") or "")
            item.type_param = "INTERNET"
        for address in record.get("addresses") or []:
            adr = card.add("adr")
            street = ", ".join(str(address.get(k)) for k in ("line1", "line2") if address.get(k))
            adr.value = vobject.vcard.Address(
                street=street,
                city=str(address.get("city") or ""),
                region=str(address.get("region") or ""),
                code=str(address.get("postal_code") or ""),
                country=str(address.get("country") or ""),
            )
        birth = record.get("birth_date")
        if isinstance(birth, dt.date):
            card.add("bday").value = birth.isoformat()
        tags = [str(t) for t in record.get("tags") or []]
        if tags:
            card.add("categories").value = tags
        if record.get("notes"):
            card.add("note").value = str(record["notes"])
        card.add("uid").value = str(record.get("customer_number") or "")
        self.handle.write(card.serialize())

    def close(self) -> None:
        self.handle.close()


def run_customer_export(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    user = job.owner
    require_permission(user, "customer", EXPORT)  # it may have been withdrawn since the export was asked for
    file_format = job.params["format"]
    suffix = FORMATS[file_format][0]
    headers = dict(export_columns())
    keys = list(job.params["columns"])
    columns = [(key, headers.get(key, key)) for key in keys]
    filters = _filters(user, job.params.get("filters") or {})
    total, chunks = _id_chunks(user, filters)
    progress.set_total(total)
    path = progress.work_file(suffix)
    writer: RowWriter | VCardWriter
    if file_format == "xlsx":
        writer = XlsxWriter(path, columns, sheet=_("Customers"))
    elif file_format == "json":
        writer = JsonWriter(path, columns)
    elif file_format == "vcf":
        writer = VCardWriter(path)
    else:
        writer = CsvWriter(path, columns)
    if isinstance(writer, VCardWriter):
        reader = _Reader(user, _VCARD_COLUMNS, item_fields=_VCARD_ITEM_FIELDS)
    else:
        reader = _Reader(user, keys, item_fields=_ITEM_FIELDS)
    table = _Table(keys, _ITEM_FIELDS)
    exported: list[int] = []
    try:
        for ids in chunks:
            chunk = reader.read(ids)
            views = reader.views(chunk)
            if isinstance(writer, VCardWriter):
                for i, view in enumerate(views):
                    writer.write_record(apply_to_dict(view, chunk.record(i, _VCARD_ITEM_FIELDS)), view)
            else:
                writer.write_columns(table.columns(chunk, views))
            exported.extend(chunk.ids)
            progress.advance(len(ids))
    finally:
        writer.close()
    log_access(
        user,
        AccessKind.EXPORT,
        customer_ids=exported,
        query=loggable_query(filters.q, []),
        filters={
            **{k: v for k, v in (job.params.get("filters") or {}).items() if k != "q"},
            "format": [file_format],
        },
        result_count=len(exported),
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return {"rows": len(exported), "format": file_format, "download_name": f"customers-{stamp}{suffix}"}
