"""Follow-ups due: interactions whose follow-up date falls in a window, for the customers a user may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from kith.parties.choices import CustomerStatus
from kith.parties.models import Interaction
from kith.parties.selectors.customers import visible_customers_q


def follow_ups_due(
    *, user: Any, start: dt.date, end: dt.date, owner_id: int | None = None, limit: int = 20
) -> list[Interaction]:
    """Interactions to follow up between ``start`` and ``end`` (inclusive), soonest first, one query."""
    condition = visible_customers_q(user, via="customer__") & ~Q(customer__status=CustomerStatus.ARCHIVED)
    if owner_id is not None:
        condition &= Q(customer__owner_id=owner_id)
    return list(
        Interaction.objects.filter(condition, follow_up_date__gte=start, follow_up_date__lte=end)
        .select_related("customer")
        .only(
            "id",
            "kind",
            "subject",
            "follow_up_date",
            "customer__id",
            "customer__customer_number",
            "customer__display_name",
        )
        .order_by("follow_up_date", "id")[:limit]
    )
