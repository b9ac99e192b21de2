"""Finding customers: one search box plus filters, keyset-paginated. The same results on SQLite and PostgreSQL.

``customer_search(user=..., filters=..., cursor=...)`` is the one entry point for the list page, the API
and every later module. ``CustomerFilters.from_params`` is the one definition of the filters for UI and API.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kith.parties.choices import CustomerKind, CustomerStatus
from kith.parties.models import Customer, Email, Phone
from kith.parties.selectors.customers import customers_for
from kith.parties.services.contact_points import phone_query_keys
from kith.parties.services.search_keys import fold

SORTS = {
    "name": ("search_name", "id"),
    "-name": ("-search_name", "-id"),
    "number": ("customer_number",),
    "-number": ("-customer_number",),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
MAX_LIMIT = 200


@dataclass
class CustomerFilters:
    q: str = ""
    kind: str = ""
    status: str = ""
    owner_id: int | None = None
    category_id: int | None = None
    tag: str = ""
    role_id: int | None = None
    custom: dict[str, str] = field(default_factory=dict)
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    updated_from: dt.date | None = None
    updated_to: dt.date | None = None
    sort: str = "name"

    @classmethod
    def from_params(cls, params: Any) -> CustomerFilters:
        """Read filters from a QueryDict or dict; bad values raise one ValidationError keyed by parameter."""
        errors: dict[str, list[str]] = {}

        def text(name: str) -> str:
            value = params.get(name) or ""
            return str(value).strip()[:200]

        def number(name: str) -> int | None:
            value = text(name)
            if not value:
                return None
            if not value.isdigit():
                errors[name] = [_("Enter a whole number.")]
                return None
            return int(value)

        def date(name: str) -> dt.date | None:
            value = text(name)
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                errors[name] = [_("Enter a valid date (YYYY-MM-DD).")]
                return None

        filters = cls(
            q=text("q"),
            kind=text("kind"),
            status=text("status"),
            owner_id=number("owner"),
            category_id=number("category"),
            tag=text("tag"),
            role_id=number("role"),
            custom={
                k[3:]: str(v)[:200] for k, v in params.items() if k.startswith("cf_") and v not in ("", None)
            },
            created_from=date("created_from"),
            created_to=date("created_to"),
            updated_from=date("updated_from"),
            updated_to=date("updated_to"),
            sort=text("sort") or "name",
        )
        if filters.kind and filters.kind not in CustomerKind.values:
            errors["kind"] = [_("Choose person or company.")]
        if filters.status and filters.status not in CustomerStatus.values:
            errors["status"] = [_("Unknown status.")]
        if filters.sort not in SORTS:
            errors["sort"] = [_("Sort by one of: %(keys)s.") % {"keys": ", ".join(SORTS)}]
        if errors:
            raise ValidationError(errors)
        return filters


@dataclass
class SearchPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values, default=str)).decode()


def _decode_cursor(cursor: str) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list):
            raise ValueError
        return values
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise ValidationError({"cursor": [_("This page link is not valid any more; start again.")]}) from exc


def _text_match(q: str) -> Q:
    """What the search box text matches: number, phone, email, name prefix or substring, pinyin."""
    match = Q(customer_number__iexact=q)
    e164, national = phone_query_keys(q)
    if e164 or national:
        phone_q = Q()
        if e164:
            phone_q |= Q(number=e164)
        if national:
            phone_q |= Q(national_number=national)
        match |= Q(pk__in=Phone.objects.filter(phone_q).values("customer_id"))
    if "@" in q:
        match |= Q(pk__in=Email.objects.filter(address_key=q.casefold()).values("customer_id"))
    key = fold(q)
    if key:
        match |= Q(search_name__contains=key)
        compact = key.replace(" ", "")
        if compact.isascii() and compact.isalpha():
            match |= Q(search_pinyin__startswith=compact) | Q(search_initials__startswith=compact)
    return match


def _filtered(user: Any, filters: CustomerFilters) -> QuerySet[Customer]:
    qs = customers_for(user)
    if filters.q:
        qs = qs.filter(_text_match(filters.q))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.category_id:
        qs = qs.filter(categories__id=filters.category_id)
    if filters.tag:
        qs = qs.filter(tags__name_key=filters.tag.casefold())
    if filters.role_id:
        qs = qs.filter(roles__id=filters.role_id)
    for key, value in filters.custom.items():
        qs = qs.filter(**{f"custom_data__{key}": value})
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    if filters.updated_from:
        qs = qs.filter(updated_at__date__gte=filters.updated_from)
    if filters.updated_to:
        qs = qs.filter(updated_at__date__lte=filters.updated_to)
    return qs


ROW_FIELDS = (
    "id",
    "customer_number",
    "kind",
    "display_name",
    "status",
    "owner_id",
    "search_name",
    "created_at",
    "updated_at",
)


def customer_search(
    *,
    user: Any,
    filters: CustomerFilters,
    cursor: str | None = None,
    limit: int = 25,
    with_total: bool = False,
) -> SearchPage:
    limit = max(1, min(int(limit), MAX_LIMIT))
    order = SORTS[filters.sort]
    qs = _filtered(user, filters)
    if cursor:
        values = _decode_cursor(cursor)
        if len(values) != len(order):
            raise ValidationError({"cursor": [_("This page link is not valid any more; start again.")]})
        # keyset: rows strictly after the last row of the previous page in the sort order
        keyset = Q()
        equal: dict[str, Any] = {}
        for name, value in zip(order, values, strict=True):
            fieldname = name.lstrip("-")
            op = "lt" if name.startswith("-") else "gt"
            keyset |= Q(**equal, **{f"{fieldname}__{op}": value})
            equal[fieldname] = value
        qs = qs.filter(keyset)
    rows = list(qs.order_by(*order).values(*ROW_FIELDS).distinct()[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor([last[name.lstrip("-")] for name in order])
        rows = rows[:limit]
    _attach_contacts(rows)
    total = _filtered(user, filters).count() if with_total else None
    return SearchPage(rows=rows, next_cursor=next_cursor, total=total)


def _attach_contacts(rows: list[dict[str, Any]]) -> None:
    """Primary phone and email for the page's rows in two queries (no per-row lookups)."""
    ids = [r["id"] for r in rows]
    phones: dict[int, str] = {}
    for cid, number in (
        Phone.objects.filter(customer_id__in=ids)
        .order_by("-is_primary", "id")
        .values_list("customer_id", "number")
    ):
        phones.setdefault(cid, number)
    emails: dict[int, str] = {}
    for cid, address in (
        Email.objects.filter(customer_id__in=ids)
        .order_by("-is_primary", "id")
        .values_list("customer_id", "address")
    ):
        emails.setdefault(cid, address)
    for row in rows:
        row["primary_phone"] = phones.get(row["id"], "")
        row["primary_email"] = emails.get(row["id"], "")
