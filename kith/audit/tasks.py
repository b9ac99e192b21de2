"""Background entry points of the audit app (thin: the work is in ``watch`` and ``rollup``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from kith.audit import rollup, watch


@task()
def notify_alert(alert_id: int) -> list[str]:
    """Email the security administrators about one access alert."""
    return watch.send_notice(alert_id)


@task()
def rollup_access(day: str) -> list[str]:
    """Roll the access log up per user per day, for every day before ``day`` (ISO date) not yet done.

    Days are UTC: the scheduler's local day may be ahead of the UTC day, which must not be rolled up
    before it ends."""
    until = min(dt.date.fromisoformat(day), timezone.now().date())
    return [d.isoformat() for d in rollup.rollup_until(until)]


def enqueue_rollup_access(day: dt.date) -> object:
    """The daily job's hook: task arguments are JSON, so the day travels as ISO text."""
    return rollup_access.enqueue(day.isoformat())
