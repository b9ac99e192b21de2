"""Scheduled work: apps register it; ``kith schedule`` enqueues each daily job once a day, however many
schedulers run, and calls the periodic work on every pass (every minute with ``--loop``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kith.core.models import SiteSetting


@dataclass(frozen=True)
class DailyJob:
    name: str
    hour: int  # local hour (settings.TIME_ZONE) from which the job is due
    enqueue: Callable[[dt.date], object]


_jobs: dict[str, DailyJob] = {}
_periodic: dict[str, Callable[[], object]] = {}
log = logging.getLogger(__name__)


def register_daily(name: str, *, hour: int, enqueue: Callable[[dt.date], object]) -> None:
    _jobs[name] = DailyJob(name=name, hour=hour, enqueue=enqueue)


def daily_jobs() -> list[DailyJob]:
    return list(_jobs.values())


def _enqueue_later(job: DailyJob, day: dt.date) -> Callable[[], None]:
    def enqueue() -> None:
        job.enqueue(day)

    return enqueue


def run_due(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every job due today that no scheduler has claimed yet; return the names enqueued."""
    local = timezone.localtime(now or timezone.now())
    today = local.date()
    started: list[str] = []
    for job in daily_jobs():
        if local.hour < job.hour:
            continue
        key = f"schedule.{job.name}.last_day"
        with transaction.atomic():
            row, _ = SiteSetting.objects.select_for_update().get_or_create(key=key, defaults={"value": None})
            if row.value == today.isoformat():
                continue
            row.value = today.isoformat()
            row.save(update_fields=["value", "updated_at"])
            transaction.on_commit(_enqueue_later(job, today))
        started.append(job.name)
    return started


def register_periodic(name: str, run: Callable[[], object]) -> None:
    """``run()`` is called on every pass of ``kith schedule`` (every minute with ``--loop``): it must be cheap
    when there is nothing to do and safe when several schedulers run it at once (it usually enqueues a task)."""
    _periodic[name] = run


def run_periodic() -> list[tuple[str, object]]:
    """Call every periodic function; return (name, what it returned). One that fails is logged and skipped."""
    results: list[tuple[str, object]] = []
    for name, run in list(_periodic.items()):
        try:
            results.append((name, run()))
        except Exception:
            log.exception("periodic work %s failed", name)
    return results
