"""Background entry points of privacy tooling (thin: the work is in the services)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from kith.privacy.services.retention import retention_review


@task()
def retention_review_task(day: str) -> dict[str, dict[str, int]]:
    """Daily: flag customers the retention rules match; anonymise those due under "anonymise" rules."""
    return retention_review()


def enqueue_retention_review(day: dt.date) -> object:
    return retention_review_task.enqueue(day.isoformat())
