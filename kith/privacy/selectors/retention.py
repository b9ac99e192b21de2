"""Which customers a retention rule matches: status X, no update and no timeline entry or interaction
since the cut-off, not erased. Keyset-paginated on the customer id.

The walk uses the ``(status, id)`` index of customers; each candidate costs one probe of
``(updated_at)`` on the row, one of the timeline index ``(subject, -occurred_at)`` and one of the
interaction index ``(customer, -occurred_at)``, so a page costs about the same at any depth.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from kith.core.models import TimelineEntry
from kith.parties.models import Customer, Interaction
from kith.parties.selectors.customers import customers_for
from kith.privacy.choices import FlagState
from kith.privacy.models import ErasureRecord, RetentionFlag, RetentionRule

MAX_LIMIT = 200


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` calendar months earlier (31 March - 1 month = 28/29 February)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def cutoff(rule: RetentionRule, *, now: dt.datetime | None = None) -> dt.datetime:
    return months_before(now or timezone.now(), rule.inactive_months)


def rules(*, include_inactive: bool = True) -> QuerySet[RetentionRule]:
    qs = RetentionRule.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


def matching_customers(
    rule: RetentionRule, *, user: Any = None, system: bool = False, now: dt.datetime | None = None
) -> QuerySet[Customer]:
    """Customers ``rule`` matches, among those ``user`` may see (``system=True``: all, for the job)."""
    base = Customer.objects.all() if system else customers_for(user)
    since = cutoff(rule, now=now)
    ct = ContentType.objects.get_for_model(Customer)
    recent_entry = TimelineEntry.objects.filter(
        subject_type=ct, subject_id=OuterRef("pk"), occurred_at__gte=since
    )
    recent_interaction = Interaction.objects.filter(customer=OuterRef("pk"), occurred_at__gte=since)
    erased = ErasureRecord.objects.filter(customer=OuterRef("pk"))
    return (
        base.filter(status=rule.status, updated_at__lt=since)
        .exclude(Exists(recent_entry))
        .exclude(Exists(recent_interaction))
        .exclude(Exists(erased))
    )


@dataclass
class MatchRow:
    customer: Customer
    last_activity: dt.datetime | None
    flag: RetentionFlag | None


@dataclass
class MatchPage:
    rows: list[MatchRow]
    next_cursor: int | None


def retention_report(
    rule: RetentionRule,
    *,
    user: Any,
    after: int | None = None,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> MatchPage:
    """One page of matches in id order, each with its last timeline activity and its flag."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    ct = ContentType.objects.get_for_model(Customer)
    qs = matching_customers(rule, user=user, now=now)
    if after:
        qs = qs.filter(pk__gt=after)
    customers = list(qs.select_related("owner").order_by("pk")[: limit + 1])
    more = len(customers) > limit
    customers = customers[:limit]
    ids = [c.pk for c in customers]
    last = dict(
        TimelineEntry.objects.filter(subject_type=ct, subject_id__in=ids)
        .values("subject_id")
        .annotate(last=Max("occurred_at"))
        .values_list("subject_id", "last")
    )
    flags = {f.customer_id: f for f in RetentionFlag.objects.filter(rule=rule, customer_id__in=ids)}
    rows = [MatchRow(c, last.get(c.pk), flags.get(c.pk)) for c in customers]
    return MatchPage(rows=rows, next_cursor=customers[-1].pk if more else None)


def open_flag_counts() -> dict[int, int]:
    """Open flags per rule (for the rules list)."""
    return dict(
        RetentionFlag.objects.filter(state=FlagState.OPEN)
        .values("rule_id")
        .annotate(n=Count("pk"))
        .values_list("rule_id", "n")
    )
