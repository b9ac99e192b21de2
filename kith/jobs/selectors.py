from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from kith.jobs.models import UNFINISHED, Job, JobStatus


def jobs_for(user: Any) -> QuerySet[Job]:
    """The jobs ``user`` started (superusers: everyone's)."""
    jobs = Job.objects.select_related("owner")
    return jobs if user.is_superuser else jobs.filter(owner=user)


def job_for(user: Any, pk: int) -> Job | None:
    return jobs_for(user).filter(pk=pk).first()


def last_succeeded(kinds: Iterable[str]) -> Job | None:
    """The newest finished job of these kinds, whoever started it (a page showing the latest result)."""
    return (
        Job.objects.select_related("owner")
        .filter(kind__in=list(kinds), status=JobStatus.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )


def unfinished(kinds: Iterable[str]) -> Job | None:
    """The oldest queued or running job of these kinds, whoever started it."""
    return (
        Job.objects.select_related("owner")
        .filter(kind__in=list(kinds), status__in=UNFINISHED)
        .order_by("created_at", "id")
        .first()
    )
