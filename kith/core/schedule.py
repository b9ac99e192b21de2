"""Daily jobs: apps register them; ``kith schedule`` enqueues each once a day, however many schedulers run."""

from __future__ import annotations

import datetime as dt
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
