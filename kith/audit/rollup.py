"""Access statistics: per user per day figures from the access log, the daily rollup table that keeps
them for past days (``AccessDaily``), and the catch-up of alerts a split counter may have missed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from kith.audit import watch
from kith.audit.choices import AccessKind, AlertKind
from kith.audit.models import AccessDaily, AccessLog


@dataclass
class DayFigures:
    """One user's access on one day (UTC)."""

    day: dt.date
    user_id: int | None
    username: str
    views: int = 0  # customer pages opened
    customers: int = 0  # distinct customers whose page was opened
    searches: int = 0
    search_results: int = 0  # customers listed on the search pages
    exports: int = 0
    exported: int = 0  # rows exported


FIELDS = ("views", "customers", "searches", "search_results", "exports", "exported")


def live_figures(date_from: dt.date, date_to: dt.date, *, user_id: int | None = None) -> list[DayFigures]:
    """Figures computed from the access log itself (one grouped query on the (day, user) index).

    A customer-page row names one customer, so distinct customers is a distinct count of the rows' ids.
    """
    rows = AccessLog.objects.filter(day__gte=date_from, day__lte=date_to)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    view, search, export = Q(kind=AccessKind.VIEW), Q(kind=AccessKind.SEARCH), Q(kind=AccessKind.EXPORT)
    grouped = (
        rows.values("day", "user_id")
        .annotate(
            name=Max("username"),
            n_views=Sum("customer_count", filter=view),
            n_customers=Count("customer_ids", filter=view, distinct=True),
            n_searches=Count("id", filter=search),
            n_search_results=Sum("customer_count", filter=search),
            n_exports=Count("id", filter=export),
            n_exported=Sum("customer_count", filter=export),
        )
        .order_by("day", "user_id")
    )
    return [
        DayFigures(
            day=row["day"],
            user_id=row["user_id"],
            username=row["name"] or "",
            **{name: int(row[f"n_{name}"] or 0) for name in FIELDS},
        )
        for row in grouped
    ]


def rolled_up_until() -> dt.date | None:
    """The last day the rollup holds (days after it are computed live)."""
    found: dt.date | None = AccessDaily.objects.aggregate(last=Max("day"))["last"]
    return found


def figures(date_from: dt.date, date_to: dt.date, *, user_id: int | None = None) -> list[DayFigures]:
    """Per user per day figures: rolled-up days from ``AccessDaily``, the others (today) live."""
    last = rolled_up_until()
    found: list[DayFigures] = []
    if last is not None and last >= date_from:
        stored = AccessDaily.objects.filter(day__gte=date_from, day__lte=min(last, date_to))
        if user_id is not None:
            stored = stored.filter(user_id=user_id)
        found += [
            DayFigures(
                day=row.day,
                user_id=row.user_id,
                username=row.username,
                **{name: getattr(row, name) for name in FIELDS},
            )
            for row in stored.order_by("day", "user_id")
        ]
        date_from = last + dt.timedelta(days=1)
    if date_from <= date_to:
        found += live_figures(date_from, date_to, user_id=user_id)
    return found


def rollup_day(day: dt.date) -> list[AccessDaily]:
    """(Re)write the day's rows from the log; idempotent. Then raise the alerts the counters missed."""
    rows = [
        AccessDaily(
            day=f.day, user_id=f.user_id, username=f.username[:150], **{n: getattr(f, n) for n in FIELDS}
        )
        for f in live_figures(day, day)
    ]
    with transaction.atomic():
        AccessDaily.objects.filter(day=day).delete()
        AccessDaily.objects.bulk_create(rows, batch_size=500)
    _catch_up_alerts(rows)
    return rows


def _catch_up_alerts(rows: list[AccessDaily]) -> None:
    """With the cache in local memory each app server counts apart; the day's totals settle it."""
    limits = watch.thresholds()
    for row in rows:
        if row.user_id is None:
            continue
        for kind, count in (
            (AlertKind.VIEWS, row.views),
            (AlertKind.SEARCH, row.search_results),
            (AlertKind.EXPORT, row.exported),
        ):
            limit = limits.for_kind(kind)
            if limit > 0 and count >= limit:
                watch.raise_alert(
                    user_id=row.user_id,
                    username=row.username,
                    day=row.day,
                    kind=kind,
                    count=count,
                    threshold=limit,
                )


def rollup_until(today: dt.date | None = None) -> list[dt.date]:
    """Roll up every day before ``today`` (UTC) that is not rolled up yet; returns the days written."""
    today = today or timezone.now().date()
    last = rolled_up_until()
    if last is None:
        first: dt.date | None = (
            AccessLog.objects.filter(day__lt=today).order_by("day").values_list("day", flat=True).first()
        )
        if first is None:
            return []
        start = first
    else:
        start = last + dt.timedelta(days=1)
    done = []
    day = start
    while day < today:
        rollup_day(day)
        done.append(day)
        day += dt.timedelta(days=1)
    return done
