"""Reads of business records hanging off customers: interactions, relationships, special dates."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.parties.choices import SpecialDateKind
from kith.parties.models import Customer, Interaction, Relationship, SpecialDate
from kith.parties.selectors.customers import customers_for
from kith.parties.services.special_dates import celebrated_on

MAX_LIMIT = 200
_BIGINT = 2**63 - 1


def interactions_for(user: Any) -> QuerySet[Interaction]:
    """Every interaction ``user`` may see: those of the customers they may see."""
    return Interaction.objects.filter(customer__in=customers_for(user).values("pk"))


def relationships_for(user: Any) -> QuerySet[Relationship]:
    """Relationships whose both sides ``user`` may see."""
    visible = customers_for(user).values("pk")
    return Relationship.objects.filter(from_customer__in=visible, to_customer__in=visible)


@dataclass
class InteractionPage:
    rows: list[Interaction]
    next_cursor: str | None


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": [_("This page link is not valid any more; start again.")]})


def _encode(when: dt.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([when.isoformat(), pk])).decode()


def _decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        when_text, pk = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        when = dt.datetime.fromisoformat(when_text)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise _bad_cursor() from exc
    if timezone.is_naive(when) or not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk <= _BIGINT:
        raise _bad_cursor()
    return when, pk


def interaction_list(
    *,
    user: Any,
    customer: Customer | None = None,
    kinds: Iterable[str] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> InteractionPage:
    """Newest first, keyset-paginated on (occurred_at, id)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    qs = interactions_for(user).select_related("customer", "actor")
    if customer is not None:
        qs = qs.filter(customer=customer)
    kind_list = [k for k in kinds if k]
    if kind_list:
        qs = qs.filter(kind__in=kind_list)
    if cursor:
        when, pk = _decode(cursor)
        qs = qs.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, id__lt=pk))
    rows = list(qs.order_by("-occurred_at", "-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode(last.occurred_at, last.pk)
        rows = rows[:limit]
    return InteractionPage(rows=rows, next_cursor=next_cursor)


@dataclass
class SpecialDateView:
    """A special date with the day it is next celebrated (today counts) and the years it then marks."""

    special_date: SpecialDate
    next_occurrence: dt.date
    years_at_next: int | None
    year: int | None = None  # the year it began, when known (a birthday's comes from the birth date)


def next_occurrence(row: SpecialDate, *, today: dt.date) -> dt.date:
    on = celebrated_on(row.month, row.day, today.year)
    if on < today:
        on = celebrated_on(row.month, row.day, today.year + 1)
    return on


def special_dates_of(customer: Customer, *, today: dt.date | None = None) -> list[SpecialDateView]:
    """Uses the prefetched ``special_dates`` when the customer came from ``customer_page``."""
    today = today or timezone.localdate()
    views = []
    for row in customer.special_dates.all():
        on = next_occurrence(row, today=today)
        year = row.year
        if year is None and row.kind == SpecialDateKind.BIRTHDAY and customer.birth_date is not None:
            year = customer.birth_date.year  # kept encrypted in the birth date, not in the special date
        views.append(SpecialDateView(row, on, (on.year - year) if year else None, year))
    views.sort(key=lambda v: (v.next_occurrence, v.special_date.pk))
    return views
