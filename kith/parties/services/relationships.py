"""Relationships between customers, with types defined once by admins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kith.parties.choices import KindScope
from kith.parties.models import Customer, Relationship, RelationshipType
from kith.parties.services.access import require_change


def _fits(scope: str, customer: Customer) -> bool:
    return scope == KindScope.ANY or scope == customer.kind


@transaction.atomic
def relationship_add(
    *,
    actor: Any,
    type: RelationshipType,
    from_customer: Customer,
    to_customer: Customer,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    note: str = "",
) -> Relationship:
    require_change(actor, from_customer, "relationship", "create")
    errors: dict[str, list[str]] = {}
    if from_customer.pk == to_customer.pk:
        errors["to_customer"] = [_("A customer cannot be related to itself.")]
    if not type.is_active:
        errors["type"] = [_("This relationship type is retired.")]
    if not _fits(type.from_kind, from_customer):
        errors["from_customer"] = [
            _("“%(type)s” needs a %(kind)s on this side.")
            % {"type": type.name, "kind": type.get_from_kind_display()}
        ]
    if not _fits(type.to_kind, to_customer):
        errors["to_customer"] = [
            _("“%(type)s” needs a %(kind)s on the other side.")
            % {"type": type.name, "kind": type.get_to_kind_display()}
        ]
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = [_("The end date is before the start date.")]
    if not errors:
        same = Q(from_customer=from_customer, to_customer=to_customer)
        if type.is_symmetric:
            same |= Q(from_customer=to_customer, to_customer=from_customer)
        if Relationship.objects.filter(same, type=type).exists():
            errors["to_customer"] = [_("This relationship is already recorded.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Relationship.objects.create(
                type=type,
                from_customer=from_customer,
                to_customer=to_customer,
                start_date=start_date,
                end_date=end_date,
                note=(note or "").strip()[:300],
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError as exc:
        raise ValidationError({"to_customer": [_("This relationship is already recorded.")]}) from exc


@transaction.atomic
def relationship_remove(*, actor: Any, relationship: Relationship) -> None:
    require_change(actor, relationship.from_customer, "relationship", "delete")
    relationship.delete()
