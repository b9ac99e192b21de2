"""Consent reads: the current state per (customer, purpose, channel), the history, and the bulk filter.

No record means no consent: contact for a purpose needs an explicit "given" (opt-in, as GDPR and PIPL
require for marketing).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from kith.privacy.choices import ConsentStatus
from kith.privacy.models import ConsentPurpose, ConsentRecord


def purposes(*, include_retired: bool = False) -> QuerySet[ConsentPurpose]:
    qs = ConsentPurpose.objects.all()
    return qs if include_retired else qs.filter(is_active=True)


def _purpose_q(purpose: ConsentPurpose | int | str, prefix: str = "") -> Q:
    if isinstance(purpose, ConsentPurpose):
        return Q(**{f"{prefix}purpose_id": purpose.pk})
    if isinstance(purpose, int):
        return Q(**{f"{prefix}purpose_id": purpose})
    return Q(**{f"{prefix}purpose__code": purpose})


def current_consent(
    customer_id: int, purpose: ConsentPurpose | int | str, channel: str
) -> ConsentRecord | None:
    """The record in force for (customer, purpose, channel), or None: one lookup on the unique index."""
    return (
        ConsentRecord.objects.filter(
            _purpose_q(purpose), customer_id=customer_id, channel=channel, is_current=True
        )
        .select_related("purpose", "recorded_by")
        .first()
    )


def may_contact(customer_id: int, purpose: ConsentPurpose | int | str, channel: str) -> bool:
    """True only if the customer's current consent for this purpose over this channel is "given"."""
    return ConsentRecord.objects.filter(
        _purpose_q(purpose),
        customer_id=customer_id,
        channel=channel,
        is_current=True,
        status=ConsentStatus.GIVEN,
    ).exists()


def contactable_q(purpose: ConsentPurpose | int | str, channel: str, *, via: str = "") -> Q:
    """The condition "may be contacted for ``purpose`` over ``channel``" for a customer queryset
    (``via=""``) or for records pointing at a customer (``via="customer__"``), for bulk use:
    ``customers.filter(contactable_q("marketing_email", "email"))``."""
    given = ConsentRecord.objects.filter(
        _purpose_q(purpose),
        customer_id=OuterRef(f"{via}pk"),
        channel=channel,
        is_current=True,
        status=ConsentStatus.GIVEN,
    )
    return Q(Exists(given))


def current_consents(customer: Any) -> list[ConsentRecord]:
    """The record in force for every (purpose, channel) the customer has a statement for."""
    return list(
        ConsentRecord.objects.filter(customer=customer, is_current=True)
        .select_related("purpose", "recorded_by")
        .order_by("purpose__name", "channel")
    )


def consent_history(customer: Any, *, limit: int | None = None) -> list[ConsentRecord]:
    """Every statement, newest first."""
    qs = (
        ConsentRecord.objects.filter(customer=customer)
        .select_related("purpose", "recorded_by")
        .order_by("-occurred_at", "-id")
    )
    return list(qs[:limit] if limit else qs)
