"""Follow-ups due: interactions whose follow-up date falls in a window, for the customers a user may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kith.parties.choices import CustomerStatus
from kith.parties.models import Interaction
from kith.parties.selectors.customers import customers_for


def follow_ups_due(
    *, user: Any, start: dt.date, end: dt.date, owner_id: int | None = None, limit: int = 20
) -> list[Interaction]:
    """Interactions to follow up between ``start`` and ``end`` (inclusive), soonest first, one query."""
    visible = customers_for(user).exclude(status=CustomerStatus.ARCHIVED)
    if owner_id is not None:
        visible = visible.filter(owner_id=owner_id)
    return list(
        Interaction.objects.filter(
            follow_up_date__gte=start, follow_up_date__lte=end, customer__in=visible.values("pk")
        )
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
