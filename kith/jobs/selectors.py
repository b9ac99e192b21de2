from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kith.jobs.models import Job


def jobs_for(user: Any) -> QuerySet[Job]:
    """The jobs ``user`` started (superusers: everyone's)."""
    jobs = Job.objects.select_related("owner")
    return jobs if user.is_superuser else jobs.filter(owner=user)


def job_for(user: Any, pk: int) -> Job | None:
    return jobs_for(user).filter(pk=pk).first()
