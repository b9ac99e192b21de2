"""Reads of the audit trail and the access log: filtered, newest first, keyset-paginated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.audit.choices import AccessKind, Action, Source
from kith.audit.models import AccessLog, AuditEntry

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class AuditFilters:
    """One definition of the filters for the page, the CSV export, the API and the command."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    source: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    cursor: int | None = None
    limit: int = PAGE_SIZE
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> AuditFilters:
        found = cls()

        def text(name: str, limit: int) -> str:
            value = str(params.get(name) or "").strip()
            if "\x00" in value:
                found.errors.setdefault(name, []).append(_("Null characters are not allowed."))
                return ""
            return value[:limit]

        found.actor = text("actor", 150)
        found.object_type = text("object_type", 100).lower()
        found.object_id = text("object_id", 64)
        found.action = text("action", 20)
        if found.action and found.action not in Action.values:
            found.errors["action"] = [_("“%(value)s” is not a valid choice.") % {"value": found.action}]
        found.source = text("source", 10)
        if found.source and found.source not in Source.values:
            found.errors["source"] = [_("“%(value)s” is not a valid choice.") % {"value": found.source}]
        for name in ("date_from", "date_to"):
            value = text(name, 20)
            if value:
                try:
                    setattr(found, name, dt.date.fromisoformat(value))
                except ValueError:
                    found.errors[name] = [_("Enter a valid date (YYYY-MM-DD).")]
        if found.date_from and found.date_to and found.date_to < found.date_from:
            found.errors["date_to"] = [_("The end date is before the start date.")]
        cursor = text("cursor", 20)
        if cursor:
            try:
                found.cursor = int(cursor)
                if found.cursor < 1:
                    raise ValueError
            except ValueError:
                found.errors["cursor"] = [_("This cursor is not valid.")]
        limit = text("limit", 5)
        if limit:
            try:
                found.limit = max(1, min(MAX_PAGE_SIZE, int(limit)))
            except ValueError:
                found.errors["limit"] = [_("Enter a whole number.")]
        return found

    def as_query(self) -> dict[str, str]:
        """The filters as URL parameters (for "next page" and export links)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "source": self.source,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}

    def condition(self) -> Q:
        q = Q()
        if self.actor:
            q &= Q(actor_label=self.actor)
        if self.action:
            q &= Q(action=self.action)
        if self.object_type:
            q &= Q(object_type=self.object_type)
        if self.object_id:
            q &= Q(object_id=self.object_id)
        if self.source:
            q &= Q(source=self.source)
        if self.date_from:
            q &= Q(timestamp__gte=_day_start(self.date_from))
        if self.date_to:
            q &= Q(timestamp__lt=_day_start(self.date_to + dt.timedelta(days=1)))
        return q


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


@dataclass
class Page:
    entries: list[AuditEntry]
    next_cursor: str | None


def _page(queryset: QuerySet[AuditEntry], *, cursor: int | None, limit: int) -> Page:
    if cursor is not None:
        queryset = queryset.filter(seq__lt=cursor)
    rows = list(queryset.order_by("-seq")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(rows[-1].seq) if more and rows else None)


def audit_entries(filters: AuditFilters) -> Page:
    """The global audit view: newest first, one page from the cursor on."""
    return _page(AuditEntry.objects.filter(filters.condition()), cursor=filters.cursor, limit=filters.limit)


def entries_for_export(filters: AuditFilters) -> Iterator[AuditEntry]:
    """Every matching entry, in chain order, streamed from the database."""
    return AuditEntry.objects.filter(filters.condition()).order_by("seq").iterator(chunk_size=2000)


def customer_history(customer_id: int, *, cursor: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Entries of a customer and of its contact points, records and relationships (one indexed lookup)."""
    return _page(AuditEntry.objects.filter(customer_id=customer_id), cursor=cursor, limit=limit)


def customer_entry(customer_id: int, seq: int) -> AuditEntry | None:
    return AuditEntry.objects.filter(customer_id=customer_id, seq=seq, object_type="parties.customer").first()


def access_summary(*, date_from: dt.date, date_to: dt.date, username: str = "") -> list[Any]:
    """Per user per day: customer pages, distinct customers viewed, searches (and the customers they
    listed), exports and exported rows; rolled-up days from the daily table, today live."""
    from kith.audit import rollup

    rows = [f for f in rollup.figures(date_from, date_to) if not username or f.username == username]
    rows.sort(key=lambda f: (-f.day.toordinal(), -f.customers, -f.views, f.username))
    return rows[:1000]


# --- access statistics, the dashboard ----------------------------------------------------------------

WHO_LOOKED_DAYS = 180


@dataclass
class Looker:
    username: str
    kind: str
    times: int
    last_at: dt.datetime

    @property
    def kind_label(self) -> str:
        return str(AccessKind(self.kind).label)


def _mentioning(rows: QuerySet[AccessLog], customer_id: int) -> QuerySet[AccessLog]:
    """Rows whose customer ids include ``customer_id`` (PostgreSQL: the GIN index; SQLite: json_each)."""
    if connection.vendor == "postgresql":
        return rows.filter(customer_ids__contains=[customer_id])
    return rows.extra(
        where=["EXISTS (SELECT 1 FROM json_each(audit_accesslog.customer_ids) WHERE json_each.value = %s)"],
        params=[int(customer_id)],
    )


def who_looked(customer_id: int, *, days: int = WHO_LOOKED_DAYS, limit: int = 100) -> list[Looker]:
    """Who opened, listed in a search or exported this customer in the last ``days``, per user and kind."""
    since = timezone.now() - dt.timedelta(days=days)
    rows = _mentioning(AccessLog.objects.filter(timestamp__gte=since), customer_id)
    grouped = (
        rows.values("username", "kind")
        .annotate(times=Count("id"), last_at=Max("timestamp"))
        .order_by("-last_at", "username")[:limit]
    )
    return [Looker(r["username"], r["kind"], r["times"], r["last_at"]) for r in grouped]


@dataclass
class UserTotal:
    username: str
    customers: int
    views: int
    searches: int
    exported: int


def _per_user(rows: list[Any]) -> list[UserTotal]:
    totals: dict[str, UserTotal] = {}
    for f in rows:
        if f.user_id is None:
            continue
        t = totals.setdefault(f.username, UserTotal(f.username, 0, 0, 0, 0))
        t.customers += f.customers
        t.views += f.views
        t.searches += f.searches
        t.exported += f.exported
    return sorted(totals.values(), key=lambda t: (-t.customers, -t.views, t.username))


def dashboard(*, today: dt.date | None = None, days: int = 30, top: int = 10) -> dict[str, Any]:
    """Everything the security dashboard shows, ready for the template and the charts' JSON."""
    from kith.audit import rollup
    from kith.audit.models import Alert

    today = today or timezone.now().date()
    first = today - dt.timedelta(days=days - 1)
    series_days = [first + dt.timedelta(days=i) for i in range(days)]
    daily = rollup.figures(first, today)
    per_day = {d: {"views": 0, "searches": 0, "exported": 0} for d in series_days}
    for f in daily:
        slot = per_day.get(f.day)
        if slot is not None:
            slot["views"] += f.views
            slot["searches"] += f.searches
            slot["exported"] += f.exported
    failed = dict(
        AuditEntry.objects.filter(action=Action.LOGIN_FAILED, timestamp__gte=_day_start(first))
        .annotate(day=TruncDate("timestamp", tzinfo=dt.UTC))
        .values("day")
        .annotate(n=Count("seq"))
        .values_list("day", "n")
    )
    week_from = today - dt.timedelta(days=6)
    failed_per_day = [int(failed.get(d, 0)) for d in series_days]
    charts: dict[str, Any] = {
        "days": [d.isoformat() for d in series_days],
        "views": [per_day[d]["views"] for d in series_days],
        "searches": [per_day[d]["searches"] for d in series_days],
        "exported": [per_day[d]["exported"] for d in series_days],
        "failed_logins": failed_per_day,
        "labels": {
            "views": _("Customer pages"),
            "searches": _("Searches"),
            "exported": _("Exported rows"),
            "failed_logins": _("Failed sign-ins"),
        },
    }
    return {
        "today": today,
        "charts": charts,
        "top_today": _per_user([f for f in daily if f.day == today])[:top],
        "top_week": _per_user([f for f in daily if f.day >= week_from])[:top],
        "permission_changes": list(
            AuditEntry.objects.filter(action=Action.PERMISSION_CHANGE).order_by("-seq")[:20]
        ),
        "open_alerts": list(Alert.objects.filter(acknowledged_at__isnull=True).order_by("-created_at")[:100]),
        "recent_acknowledged": list(
            Alert.objects.filter(acknowledged_at__isnull=False)
            .select_related("acknowledged_by")
            .order_by("-acknowledged_at")[:10]
        ),
        "failed_logins_total": sum(failed_per_day),
    }
