"""The one task every tracked job runs through."""

from __future__ import annotations

from django_tasks import task


@task()
def run_job(job_id: int) -> str:
    from kith.jobs import services

    job = services.run(job_id)
    return job.status if job is not None else "skipped"
