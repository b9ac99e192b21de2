"""Reads of contracts, scoped by who asks (the ``contract`` object type)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone

from kith.sales.models import Contract, ContractStatus
from kith.sales.order_types import CONTRACT
from kith.security.rules import VIEW, require_permission
from kith.security.selectors import visible_q


def contracts_for(user: Any, *, write: bool = False) -> QuerySet[Contract]:
    require_permission(user, CONTRACT, VIEW)
    return Contract.objects.filter(visible_q(user, CONTRACT, write=write))


def contract_list(
    *,
    user: Any,
    status: str = "",
    customer_number: str = "",
    owner: int | None = None,
    renewing_within: int | None = None,
    q: str = "",
) -> QuerySet[Contract]:
    """Visible contracts, renewals due first (the nearest renewal date; none last), then by start."""
    rows = contracts_for(user).select_related("customer", "owner")
    if status:
        rows = rows.filter(status=status)
    if customer_number:
        rows = rows.filter(customer__customer_number=customer_number.strip())
    if owner is not None:
        rows = rows.filter(owner_id=owner)
    if renewing_within is not None:
        today = timezone.localdate()
        rows = rows.filter(
            status=ContractStatus.ACTIVE,
            renewal_date__gte=today,
            renewal_date__lte=today + dt.timedelta(days=renewing_within),
        )
    if q:
        rows = rows.filter(title__icontains=q.strip())
    return rows.order_by(F("renewal_date").asc(nulls_last=True), "-start_date", "-id")


def contract_for(user: Any, pk: int, *, write: bool = False) -> Contract:
    contract = contracts_for(user, write=write).select_related("customer", "owner").filter(pk=pk).first()
    if contract is None:
        raise Http404
    return contract
