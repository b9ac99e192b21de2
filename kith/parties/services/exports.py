"""Customer export: the list as the user filtered it, with the columns they chose, to CSV, XLSX, vCard or
JSON, as a background job (``kith.jobs``) with a progress bar.

The rules are the list's rules: only customers the user may see (visibility is the search's), and each
value as the user may see it (hidden fields come out empty, sensitive ones masked; a value unmasked by an
approved access request is recorded as a view under that grant). Exporting needs the ``export`` permission
on customers, checked when the export is asked for and again when it runs. Every export is one row in the
access log with the ids of the customers exported.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kith.audit.choices import AccessKind
from kith.audit.services import log_access
from kith.core.crypto import reveal, seal
from kith.core.exports import CsvWriter, JsonWriter, RowWriter, XlsxWriter
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.parties.choices import CustomerKind
from kith.parties.models import Address, Customer, CustomFieldDefinition, Email, Phone
from kith.parties.selectors.search import MAX_LIMIT, CustomerFilters, customer_search, loggable_query
from kith.parties.services.contact_points import format_phone
from kith.parties.services.customers import MASTER_FIELDS
from kith.security.access_requests import note_sensitive_view
from kith.security.masking import CUSTOM_PREFIX, FieldView, apply_to_dict, check_filterable, field_views
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


def _related(ids: list[int]) -> dict[str, dict[int, list[Any]]]:
    """Contact points and classification of the customers ``ids``: one query per kind."""
    out: dict[str, dict[int, list[Any]]] = {name: defaultdict(list) for name in _LISTS}
    contact_points: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
        ("phones", Phone, ("label", "number", "national_number", "extension", "is_primary")),
        ("emails", Email, ("label", "address", "is_primary")),
        (
            "addresses",
            Address,
            ("label", "line1", "line2", "postal_code", "city", "region", "country", "is_primary"),
        ),
    )
    for name, model, fields in contact_points:
        for row in (
            model.objects.filter(customer_id__in=ids)
            .order_by("-is_primary", "id")
            .values("customer_id", *fields)
        ):
            item = dict(row)
            out[name][item.pop("customer_id")].append(item)
    for name, attr in (("categories", "category__name"), ("tags", "tag__name"), ("roles", "partyrole__name")):
        through = getattr(Customer, name).through
        for customer_id, value in through.objects.filter(customer_id__in=ids).values_list(
            "customer_id", attr
        ):
            out[name][customer_id].append(value)
    return out


def _records(user: Any, ids: list[int], owners: dict[int, str]) -> list[tuple[dict[str, Any], FieldView]]:
    """The customers ``ids`` (in that order) as ``user`` may see them, with the view that decided it."""
    rows = {
        r["id"]: r
        for r in Customer.objects.filter(pk__in=ids).values(
            "id", "customer_number", "kind", "owner_id", "created_at", "updated_at", "custom_data", *_PLAIN
        )
    }
    related = _related(ids)
    missing = {r["owner_id"] for r in rows.values() if r["owner_id"] and r["owner_id"] not in owners}
    if missing:
        from django.contrib.auth import get_user_model

        for owner in get_user_model().objects.filter(pk__in=missing):
            owners[owner.pk] = str(owner)
    views = field_views(user, [{"id": pk, "kind": row["kind"]} for pk, row in rows.items()])
    out = []
    for pk in ids:
        row = rows.get(pk)
        if row is None:  # deleted since the page was read
            continue
        row["owner"] = owners.get(row["owner_id"] or 0, "")
        for name in _LISTS:
            row[name] = related[name].get(pk, [])
        view = views[pk]
        shown = apply_to_dict(view, row)
        if view.grant_id and view.granted:
            note_sensitive_view(user, shown, view, channel="export")
        out.append((shown, view))
    return out


def _phone_text(item: dict[str, Any], masked: bool) -> str:
    number = str(item.get("number") or "")
    text = number if masked else format_phone(number)
    if item.get("extension"):
        text += f" ext. {item['extension']}"
    return text


def _address_text(item: dict[str, Any]) -> str:
    parts = [item.get(k) for k in ("line1", "line2", "postal_code", "city", "region", "country")]
    return ", ".join(str(p) for p in parts if p)


def flat_row(record: dict[str, Any], view: FieldView) -> dict[str, Any]:
    """One record as the cells of a table: lists joined with '; ', custom fields as ``custom.<key>``."""
    row = {k: v for k, v in record.items() if k not in _LISTS and k != "custom_data"}
    masked_phones = view.is_masked("phones")
    row["phones"] = "; ".join(_phone_text(p, masked_phones) for p in record.get("phones") or [])
    row["emails"] = "; ".join(str(e.get("address") or "") for e in record.get("emails") or [])
    row["addresses"] = " | ".join(_address_text(a) for a in record.get("addresses") or [])
    for name in ("categories", "tags", "roles"):
        row[name] = "; ".join(str(v) for v in record.get(name) or [])
    for key, value in (record.get("custom_data") or {}).items():
        row[f"{CUSTOM_PREFIX}{key}"] = "; ".join(map(str, value)) if isinstance(value, list) else value
    return row


class VCardWriter:
    """vCard 3.0, one card per customer: names, organisation, phones, emails, addresses, birthday, tags.
    A masked value is written as shown to the user (a masked birth date is left out: it is not a date)."""

    _TEL_TYPES = {"mobile": "CELL", "work": "WORK", "home": "HOME", "fax": "FAX"}

    def __init__(self, path: Path) -> None:
        self.handle = path.open("w", encoding="utf-8", newline="")

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
            tel.value = _phone_text(phone, masked_phones)
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
    columns = [(key, headers.get(key, key)) for key in job.params["columns"]]
    filters = _filters(user, job.params.get("filters") or {})
    page = customer_search(user=user, filters=filters, limit=PAGE, with_total=True)
    progress.set_total(page.total)
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
    exported: list[int] = []
    owners: dict[int, str] = {}
    try:
        while True:
            ids = [int(r["id"]) for r in page.rows]
            for record, view in _records(user, ids, owners):
                if isinstance(writer, VCardWriter):
                    writer.write_record(record, view)
                else:
                    writer.write(flat_row(record, view))
                exported.append(int(record["id"]))
            progress.advance(len(ids))
            if not page.next_cursor:
                break
            page = customer_search(user=user, filters=filters, cursor=page.next_cursor, limit=PAGE)
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
