"""Who has an anniversary on a date or in the coming days, through the indexed month-day key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from kith.parties.choices import CustomerStatus, SpecialDateKind
from kith.parties.models import SpecialDate
from kith.parties.selectors.customers import visible_customers_q
from kith.parties.services.special_dates import celebrated_on, month_days_celebrated_on

MAX_DAYS = 366


@dataclass
class Anniversary:
    customer_id: int
    customer_number: str
    display_name: str
    owner_id: int | None
    kind: str
    kind_label: str
    label: str
    date: dt.date  # the day it is celebrated
    years: int | None  # how many years it marks, when the year is known


def _matching(user: Any, keys: list[int], *, owner_id: int | None = None) -> QuerySet[SpecialDate]:
    condition = visible_customers_q(user, via="customer__") & ~Q(customer__status=CustomerStatus.ARCHIVED)
    if owner_id is not None:
        condition &= Q(customer__owner_id=owner_id)
    return SpecialDate.objects.filter(condition, month_day__in=keys)


def _rows(
    user: Any, keys: list[int], *, owner_id: int | None = None, limit: int | None = None
) -> list[SpecialDate]:
    qs = (
        _matching(user, keys, owner_id=owner_id)
        .select_related("customer")
        .only(
            "kind",
            "label",
            "year",
            "month",
            "day",
            "month_day",
            "customer__id",
            "customer__customer_number",
            "customer__display_name",
            "customer__owner_id",
            "customer__birth_date",  # encrypted: a birthday's year (the age) is read from it
        )
    )
    if limit is not None:
        # index order (month-day, customer): the first ``limit`` rows without sorting the whole day
        qs = qs.order_by("month_day", "customer_id", "kind")[:limit]
    return list(qs)


def _year(row: SpecialDate) -> int | None:
    if row.year:
        return row.year
    if row.kind == SpecialDateKind.BIRTHDAY and row.customer.birth_date is not None:
        return row.customer.birth_date.year
    return None


def _to_view(row: SpecialDate, on: dt.date) -> Anniversary:
    return Anniversary(
        customer_id=row.customer.pk,
        customer_number=row.customer.customer_number,
        display_name=row.customer.display_name,
        owner_id=row.customer.owner_id,
        kind=row.kind,
        kind_label=str(row.get_kind_display()),
        label=row.label,
        date=on,
        years=(on.year - year) if (year := _year(row)) else None,
    )


def anniversaries_on(
    *, user: Any, date: dt.date, owner_id: int | None = None, limit: int | None = None
) -> list[Anniversary]:
    """Anniversaries celebrated on ``date``, by name; at most ``limit`` (all when None)."""
    rows = _rows(user, month_days_celebrated_on(date), owner_id=owner_id, limit=limit)
    result = [_to_view(r, date) for r in rows]
    result.sort(key=lambda a: (a.display_name.casefold(), a.kind))
    return result


def _days(start: dt.date, days: int) -> list[dt.date]:
    days = max(1, min(int(days), MAX_DAYS))
    return [start + dt.timedelta(days=i) for i in range(days)]


def anniversaries_upcoming(
    *, user: Any, start: dt.date, days: int, owner_id: int | None = None, limit: int | None = None
) -> list[Anniversary]:
    """Anniversaries celebrated from ``start`` through ``start + days - 1`` (at most a year), by day then
    name; at most ``limit`` (all when None). With a limit, days are read in order until it is reached,
    so the first page of a busy week costs one or two index lookups, not the whole week."""
    dates = _days(start, days)
    if limit is None:
        keys = sorted({k for d in dates for k in month_days_celebrated_on(d)})
        rows = _rows(user, keys, owner_id=owner_id)
        end = dates[-1]
        result: list[Anniversary] = []
        for row in rows:
            for year in {start.year, end.year}:
                on = celebrated_on(row.month, row.day, year)
                if start <= on <= end:
                    result.append(_to_view(row, on))
        result.sort(key=lambda a: (a.date, a.display_name.casefold(), a.kind))
        return result
    found: list[Anniversary] = []
    for day in dates:
        if len(found) >= limit:
            break
        found += anniversaries_on(user=user, date=day, owner_id=owner_id, limit=limit - len(found))
    return found


def anniversaries_count(
    *, user: Any, start: dt.date, days: int = 1, owner_id: int | None = None, cap: int | None = None
) -> int:
    """How many anniversaries fall from ``start`` through ``start + days - 1``; counting stops at ``cap``."""
    keys = sorted({k for d in _days(start, days) for k in month_days_celebrated_on(d)})
    qs = _matching(user, keys, owner_id=owner_id)
    return qs[:cap].count() if cap else qs.count()
