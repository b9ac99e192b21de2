"""Finding the data subject of a request ("what do you hold about me?", "erase me") by the email address
or phone number the person gives: the customers and the leads known by it, as far as the asker sees them.
Every lookup is a search in the access log (``log_lookup``), as the customer search is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from kith.audit.choices import AccessKind
from kith.audit.services import log_access
from kith.parties.models import Customer, Email, Phone
from kith.parties.selectors.customers import customers_for
from kith.parties.selectors.search import loggable_query
from kith.parties.services.contact_points import normalise_email, normalise_phone
from kith.sales.choices import LEAD
from kith.sales.models import Lead
from kith.security.selectors import visible_q

LIMIT = 50
_PHONE_INDEX = Phone._meta.get_field("number_index")


@dataclass
class SubjectMatches:
    query: str
    kind: str  # "email" or "phone"
    customers: list[Customer] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)


def find_subjects(*, user: Any, query: str) -> SubjectMatches:
    """Customers with that email address (any case) or phone number, and leads with it; a lead converted
    into a customer is listed too (the customer's request covers it). Raises a ``ValidationError`` on
    ``q`` when the text is neither an email address nor a phone number."""
    text = (query or "").strip()
    customer_ids: QuerySet[Any, Any]
    if "@" in text:
        try:
            address, key = normalise_email(text)
        except ValidationError as exc:
            raise ValidationError({"q": [_("Enter a valid email address.")]}) from exc
        customer_ids = Email.objects.filter(address_key=key).values("customer_id")
        leads = Lead.objects.filter(email=address.lower())
        kind = "email"
    else:
        try:
            e164, _national = normalise_phone(text)
        except ValidationError as exc:
            raise ValidationError(
                {"q": [_("Enter an email address or a phone number."), *exc.messages]}
            ) from exc
        index = _PHONE_INDEX.index_of(e164)  # type: ignore[attr-defined]
        customer_ids = Phone.objects.filter(number_index=index).values("customer_id")
        leads = Lead.objects.filter(phone=e164)
        kind = "phone"
    customers = customers_for(user).filter(pk__in=customer_ids).order_by("customer_number")[:LIMIT]
    visible_leads = (
        leads.filter(visible_q(user, LEAD))
        .select_related("converted_customer")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    return SubjectMatches(query=text, kind=kind, customers=list(customers), leads=list(visible_leads))


def log_lookup(user: Any, matches: SubjectMatches) -> None:
    """One access-log row per lookup (the pages and the API call it after ``find_subjects``): the query
    as the customer search logs it (a phone number masked to its last two digits), the customers listed,
    the leads listed under ``filters`` (``lookup=email&lead=12&lead=15``) and how many were listed."""
    log_access(
        user,
        AccessKind.SEARCH,
        customer_ids=[c.pk for c in matches.customers],
        query=loggable_query(
            matches.query, [{"customer_number": c.customer_number} for c in matches.customers]
        ),
        filters={"lookup": matches.kind, "lead": [lead.pk for lead in matches.leads]},
        result_count=len(matches.customers) + len(matches.leads),
    )


def lead_for(*, user: Any, lead_id: int) -> Lead:
    """One lead the user may see, for a privacy request about it (404 otherwise)."""
    return get_object_or_404(
        Lead.objects.filter(visible_q(user, LEAD)).select_related("converted_customer"), pk=lead_id
    )
