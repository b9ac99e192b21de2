"""Mass-harvesting watch: per user per day counters of customers viewed, listed and exported, the
thresholds, the alerts they raise (once per user, day and kind) and the administrators' email.

The counters live in the Django cache (Redis when ``REDIS_URL`` is set, so every app server counts together;
local memory otherwise). A counter missing from the cache (new day, restarted process) starts from the
day's figure in the access log, so a restart does not hide a harvest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kith.audit.choices import AccessKind, AlertKind
from kith.audit.models import AccessLog, Alert
from kith.core.links import absolute
from kith.core.settings_store import get_setting, set_setting

SETTING_KEY = "audit.alert_thresholds"
_CACHE_KEY = "kith.audit.alert_thresholds"
_THRESHOLD_SECONDS = 60  # other app servers see a changed threshold within a minute
_COUNTER_SECONDS = 2 * 24 * 3600

# which access kind feeds which counter
KIND_OF_ACCESS = {
    AccessKind.VIEW: AlertKind.VIEWS,
    AccessKind.SEARCH: AlertKind.SEARCH,
    AccessKind.EXPORT: AlertKind.EXPORT,
}
_ACCESS_OF_KIND = {alert: access for access, alert in KIND_OF_ACCESS.items()}


@dataclass(frozen=True)
class Thresholds:
    """Per user per day; 0 turns a check off."""

    views: int
    search: int
    export: int

    def for_kind(self, kind: str) -> int:
        return int(getattr(self, kind))

    def as_dict(self) -> dict[str, int]:
        return {"views": self.views, "search": self.search, "export": self.export}


def default_thresholds() -> Thresholds:
    return Thresholds(
        views=settings.KITH_ALERT_VIEWS_PER_DAY,
        search=settings.KITH_ALERT_SEARCH_RESULTS_PER_DAY,
        export=settings.KITH_ALERT_EXPORTED_ROWS_PER_DAY,
    )


def thresholds() -> Thresholds:
    """The thresholds in force: the administrators' setting, else the environment's defaults (cached)."""
    found = cache.get(_CACHE_KEY)
    if isinstance(found, Thresholds):
        return found
    base = default_thresholds().as_dict()
    stored = get_setting(SETTING_KEY) or {}
    if isinstance(stored, dict):
        for key in base:
            if isinstance(stored.get(key), int) and stored[key] >= 0:
                base[key] = stored[key]
    found = Thresholds(**base)
    cache.set(_CACHE_KEY, found, _THRESHOLD_SECONDS)
    return found


MAX_THRESHOLD = 10_000_000


def set_thresholds(*, actor: Any, views: Any, search: Any, export: Any) -> Thresholds:
    """Store new thresholds (whole numbers, 0 = off); audited as a change of the site setting."""
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for name, raw in (("views", views), ("search", search), ("export", export)):
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if not 0 <= value <= MAX_THRESHOLD:
            errors[name] = [_("Enter a number from 0 to %(max)s.") % {"max": MAX_THRESHOLD}]
            continue
        values[name] = value
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        set_setting(SETTING_KEY, values)
        transaction.on_commit(lambda: cache.delete(_CACHE_KEY))
    cache.delete(_CACHE_KEY)
    return Thresholds(**values)


# --- counting ---------------------------------------------------------------------------------------


def _counter_key(user_id: int, kind: str, day: dt.date) -> str:
    return f"kith.audit.count:{kind}:{user_id}:{day.isoformat()}"


def _day_total(user_id: int, access_kind: str, day: dt.date) -> int:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    total = AccessLog.objects.filter(
        user_id=user_id, timestamp__gte=start, timestamp__lt=start + dt.timedelta(days=1), kind=access_kind
    ).aggregate(total=Sum("customer_count"))["total"]
    return int(total or 0)


def count_access(row: AccessLog) -> Alert | None:
    """Add ``row``'s customers to its user's counter of the day; raise an alert when it crosses the
    threshold. Called by ``log_access`` right after the row is written (the row is already counted in the
    log when the counter starts from it)."""
    kind = KIND_OF_ACCESS.get(row.kind)  # type: ignore[call-overload]
    if kind is None or row.user_id is None or not row.customer_count:
        return None
    limit = thresholds().for_kind(kind)
    if limit <= 0:
        return None
    key = _counter_key(row.user_id, kind, row.day)
    added = row.customer_count
    try:
        value = cache.incr(key, added)
        seeded = False
    except ValueError:  # no counter yet: start from the log, which holds this row already
        value = _day_total(row.user_id, row.kind, row.day)
        seeded = cache.add(key, value, _COUNTER_SECONDS)
        if not seeded:  # another request started it meanwhile
            value = cache.incr(key, added)
    crossed = value >= limit and (seeded or value - added < limit)
    if not crossed:
        return None
    return raise_alert(
        user_id=row.user_id, username=row.username, day=row.day, kind=kind, count=value, threshold=limit
    )


def raise_alert(
    *, user_id: int, username: str, day: dt.date, kind: str, count: int, threshold: int
) -> Alert | None:
    """Create the day's alert for this user and kind unless it exists; email the administrators after
    commit (a background job: the request never waits for SMTP). Returns the new alert, or None."""
    if Alert.objects.filter(user_id=user_id, day=day, kind=kind).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                created_at=timezone.now(),
                day=day,
                user_id=user_id,
                username=username,
                kind=kind,
                count=count,
                threshold=threshold,
            )
            transaction.on_commit(lambda: _enqueue_notice(alert.pk))
    except IntegrityError:  # raised by another request or app server at the same moment
        return None
    return alert


def _enqueue_notice(alert_id: int) -> None:
    from kith.audit.tasks import notify_alert

    notify_alert.enqueue(alert_id)


def acknowledge(*, actor: Any, alert: Alert) -> Alert:
    """Mark the alert as seen by ``actor`` (audited as a change of the alert)."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            raise ValidationError({"alert": [_("This alert was already acknowledged.")]})
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return locked


# --- notice -------------------------------------------------------------------------------------------


def alert_recipients() -> list[Any]:
    """Active users with an email address who administer security (superusers included)."""
    from kith.security.rules import ADMINISTER, has_permission

    users = get_user_model().objects.filter(is_active=True).exclude(email="").order_by("pk")
    return [u for u in users.iterator() if has_permission(u, "security", ADMINISTER)]


def describe(alert: Alert) -> str:
    texts = {
        AlertKind.VIEWS: _("%(user)s viewed %(count)s customers on %(day)s (threshold %(threshold)s)."),
        AlertKind.SEARCH: _(
            "%(user)s's searches listed %(count)s customers on %(day)s (threshold %(threshold)s)."
        ),
        AlertKind.EXPORT: _("%(user)s exported %(count)s rows on %(day)s (threshold %(threshold)s)."),
    }
    return texts[AlertKind(alert.kind)] % {
        "user": alert.username or "?",
        "count": alert.count,
        "day": alert.day.isoformat(),
        "threshold": alert.threshold,
    }


def send_notice(alert_id: int) -> list[str]:
    """Email the administrators about one alert; returns the addresses written to."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return []
    recipients = [u.email for u in alert_recipients()]
    if not recipients:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Kith security alert: unusual access by %(user)s") % {"user": alert.username or "?"}
        body = "\n".join(
            [
                describe(alert),
                "",
                _("Review it and acknowledge it on the security dashboard: %(path)s")
                % {"path": absolute(reverse("audit:dashboard"))},
                "",
                _("— Kith"),
            ]
        )
    send_mail(subject, body + "\n", settings.DEFAULT_FROM_EMAIL, recipients)
    return recipients


def access_kind_of(kind: str) -> str:
    return _ACCESS_OF_KIND[AlertKind(kind)]
