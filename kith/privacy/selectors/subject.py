"""What Kith's own modules hold about one customer, section by section, for the data-subject export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType

from kith.core import timeline
from kith.parties.selectors.customers import relationships_of
from kith.parties.services.custom_fields import definitions_for
from kith.privacy.models import ConsentRecord, ErasureRecord
from kith.privacy.subject_data import Subject


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _user(user: Any) -> str:
    return user.get_username() if user is not None else ""


CUSTOMER_COLUMNS = (
    "customer_number",
    "kind",
    "display_name",
    "status",
    "owner",
    "source",
    "channel",
    "notes",
    "family_name",
    "given_name",
    "gender",
    "birth_date",
    "marital_status",
    "id_document_number",
    "legal_name",
    "short_name",
    "industry",
    "founded_date",
    "registration_number",
    "company_size",
    "annual_revenue",
    "annual_revenue_currency",
    "created_at",
    "updated_at",
)


def customer_rows(customer: Any) -> list[dict[str, Any]]:
    row = {name: _plain(getattr(customer, name)) for name in CUSTOMER_COLUMNS if name != "owner"}
    row["owner"] = _user(customer.owner)
    return [{name: row[name] for name in CUSTOMER_COLUMNS}]


PHONE_COLUMNS = ("label", "number", "extension", "is_primary")
EMAIL_COLUMNS = ("label", "address", "is_primary")
ADDRESS_COLUMNS = ("label", "line1", "line2", "postal_code", "city", "region", "country", "is_primary")


def phone_rows(customer: Any) -> list[dict[str, Any]]:
    return [{c: getattr(p, c) for c in PHONE_COLUMNS} for p in customer.phones.all()]


def email_rows(customer: Any) -> list[dict[str, Any]]:
    return [{c: getattr(e, c) for c in EMAIL_COLUMNS} for e in customer.emails.all()]


def address_rows(customer: Any) -> list[dict[str, Any]]:
    return [{c: getattr(a, c) for c in ADDRESS_COLUMNS} for a in customer.addresses.all()]


def custom_field_rows(customer: Any) -> list[dict[str, Any]]:
    values = dict(customer.custom_data or {})
    rows = []
    for definition in definitions_for(customer.kind, include_retired=True):
        if definition.key in values:
            rows.append(
                {"key": definition.key, "label": definition.label, "value": values.pop(definition.key)}
            )
    rows += [{"key": key, "label": key, "value": value} for key, value in sorted(values.items())]
    return rows


def category_rows(customer: Any) -> list[dict[str, Any]]:
    return [{"tree": c.tree.name, "path": c.path} for c in customer.categories.all()]


def tag_rows(customer: Any) -> list[dict[str, Any]]:
    return [{"name": t.name} for t in customer.tags.all()]


def role_rows(customer: Any) -> list[dict[str, Any]]:
    return [{"code": r.code, "name": r.name} for r in customer.roles.all()]


def relationship_rows(customer: Any) -> list[dict[str, Any]]:
    return [
        {
            "relationship": v.label,
            "other_customer_number": v.other.customer_number,
            "other_display_name": v.other.display_name,
            "from": _plain(v.relationship.start_date),
            "until": _plain(v.relationship.end_date),
            "note": v.relationship.note,
        }
        for v in relationships_of(customer)
    ]


INTERACTION_COLUMNS = (
    "id",
    "kind",
    "occurred_at",
    "channel",
    "subject",
    "content",
    "outcome",
    "follow_up_date",
    "actor",
)


def interaction_rows(customer: Any) -> Iterator[dict[str, Any]]:
    for i in customer.interactions.select_related("actor").order_by("occurred_at", "id").iterator(2000):
        yield {
            "id": i.pk,
            "kind": i.kind,
            "occurred_at": _plain(i.occurred_at),
            "channel": i.channel,
            "subject": i.subject,
            "content": i.content,
            "outcome": i.outcome,
            "follow_up_date": _plain(i.follow_up_date),
            "actor": _user(i.actor),
        }


TIMELINE_COLUMNS = ("id", "kind", "kind_label", "occurred_at", "title", "summary", "actor", "source")


def timeline_rows(customer: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = timeline.entries_for(customer, user=None, cursor=cursor, limit=500)  # the whole record
        for entry in page.entries:
            source = ""
            if entry.source_type_id:
                ct = ContentType.objects.get_for_id(entry.source_type_id)
                source = f"{ct.app_label}.{ct.model}:{entry.source_id}"
            yield {
                "id": entry.pk,
                "kind": entry.kind,
                "kind_label": timeline.kind_label(entry.kind),
                "occurred_at": _plain(entry.occurred_at),
                "title": entry.title,
                "summary": entry.summary,
                "actor": _user(entry.actor),
                "source": source,
            }
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def special_date_rows(customer: Any) -> list[dict[str, Any]]:
    return [
        {"kind": d.kind, "label": d.label, "year": d.year, "month": d.month, "day": d.day}
        for d in customer.special_dates.all()
    ]


CONSENT_COLUMNS = (
    "purpose",
    "purpose_name",
    "channel",
    "status",
    "occurred_at",
    "evidence",
    "recorded_by",
    "in_force",
)


def consent_rows(customer: Any) -> list[dict[str, Any]]:
    records = (
        ConsentRecord.objects.filter(customer=customer)
        .select_related("purpose", "recorded_by")
        .order_by("occurred_at", "id")
    )
    return [
        {
            "purpose": r.purpose.code,
            "purpose_name": r.purpose.name,
            "channel": r.channel,
            "status": r.status,
            "occurred_at": _plain(r.occurred_at),
            "evidence": r.evidence,
            "recorded_by": _user(r.recorded_by),
            "in_force": r.is_current,
        }
        for r in records
    ]


def erasure_rows(customer: Any) -> list[dict[str, Any]]:
    return [
        {"erased_at": _plain(e.erased_at), "reason": e.reason, "via": e.via}
        for e in ErasureRecord.objects.filter(customer=customer)
    ]


BUILTIN_SECTIONS: list[tuple[str, Any, tuple[str, ...]]] = [
    ("customer", customer_rows, CUSTOMER_COLUMNS),
    ("phones", phone_rows, PHONE_COLUMNS),
    ("emails", email_rows, EMAIL_COLUMNS),
    ("addresses", address_rows, ADDRESS_COLUMNS),
    ("custom_fields", custom_field_rows, ("key", "label", "value")),
    ("categories", category_rows, ("tree", "path")),
    ("tags", tag_rows, ("name",)),
    ("roles", role_rows, ("code", "name")),
    (
        "relationships",
        relationship_rows,
        ("relationship", "other_customer_number", "other_display_name", "from", "until", "note"),
    ),
    ("interactions", interaction_rows, INTERACTION_COLUMNS),
    ("timeline", timeline_rows, TIMELINE_COLUMNS),
    ("special_dates", special_date_rows, ("kind", "label", "year", "month", "day")),
    ("consents", consent_rows, CONSENT_COLUMNS),
    ("erasure", erasure_rows, ("erased_at", "reason", "via")),
]


# --- who a request is about -------------------------------------------------------------------------


def subject_of_customer(customer: Any) -> Subject:
    """A customer as a data subject: also known by their email addresses and phone numbers (so the leads
    with one of them are theirs)."""
    return Subject(
        customer=customer,
        emails=frozenset(e.address.lower() for e in customer.emails.all()),
        phones=frozenset(p.number for p in customer.phones.all() if p.number),
    )


def subject_of_lead(lead: Any, *, seen_by: Any) -> Subject:
    """A person known only as a lead: the lead, and the other leads with its email address or phone that
    were converted into no customer and that ``seen_by`` (the user answering the request) may see."""
    return Subject(
        emails=frozenset([lead.email.lower()] if lead.email else []),
        phones=frozenset([lead.phone] if lead.phone else []),
        lead_ids=frozenset([lead.pk]),
        seen_by=seen_by,
    )
