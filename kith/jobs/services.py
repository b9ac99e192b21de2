"""Starting, running, recovering and cancelling background jobs.

A job runs through Django's Tasks API (``run_job`` in ``kith.jobs.tasks``; any number of ``kith worker``
processes). Its row is what people watch: status, rows done of the total, a heartbeat, the result and the file.

A worker killed mid-job (kill -9, a lost machine) stops the heartbeat. ``recover_stale`` (run by
``kith schedule --loop`` every minute and when a worker starts) puts such a job back in the queue and it runs
again from the start; runners write only to a work file that becomes the job's file when the run succeeds,
so nothing is ever half-applied or half-written. After ``MAX_ATTEMPTS`` the job is marked failed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.jobs import registry
from kith.jobs.models import UNFINISHED, Job, JobStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STALE_AFTER = dt.timedelta(seconds=90)  # no heartbeat for this long: the worker is gone
REPORT_EVERY = 0.5  # seconds between progress writes


class Cancelled(Exception):
    """Raised inside a runner when someone asked to cancel the job."""


def jobs_dir() -> Path:
    folder = Path(getattr(settings, "KITH_JOBS_DIR", "") or Path(settings.INSTANCE_DIR) / "jobs")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def file_path(job: Job) -> Path | None:
    return jobs_dir() / job.file_name if job.file_name else None


def file_response(job: Job, user: Any) -> FileResponse:
    """The job's file as a download for ``user`` (404 when it has none, or it was deleted after the
    retention time); a kind whose file needs a permission (an export) checks it again now."""
    from kith.security.rules import require_permission

    kind = registry._kinds.get(job.kind)
    if kind is not None and kind.file_permission is not None:
        require_permission(user, *kind.file_permission)
    path = file_path(job)
    if path is None or not path.exists():
        raise Http404
    if kind is not None and kind.file_permission is not None and job.owner_id != getattr(user, "pk", None):
        # someone else's export (an administrator sees every job): their download is an export of its own
        from kith.audit.choices import AccessKind
        from kith.audit.services import log_access

        log_access(
            user,
            AccessKind.EXPORT,
            filters={"job": job.pk, "kind": job.kind, "exported_by": job.owner_id},
            result_count=job.done,
        )
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=str(job.result.get("download_name") or path.name)
    )


class Progress:
    """What a runner reports: the total, rows done (written at most every ``REPORT_EVERY`` seconds, which
    is also the heartbeat) and where its file goes. ``on_change(done, total)`` lets the CLI draw a bar."""

    def __init__(self, job: Job, on_change: Any = None) -> None:
        self.job = job
        self.done = 0
        self.total: int | None = None
        self.on_change = on_change
        self._written = 0.0
        self._work_files: list[Path] = []

    def set_total(self, total: int | None) -> None:
        self.total = total
        self.flush()

    def advance(self, rows: int = 1) -> None:
        self.done += rows
        if self.on_change:
            self.on_change(self.done, self.total)
        if time.monotonic() - self._written >= REPORT_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write rows done and the heartbeat; stop the run if a cancel was asked for."""
        self._written = time.monotonic()
        Job.objects.filter(pk=self.job.pk).update(
            done=self.done, total=self.total, heartbeat_at=timezone.now()
        )
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise Cancelled

    def work_file(self, suffix: str, *, resumable: bool = False) -> Path:
        """The file this run writes; it becomes the job's file only when the run succeeds. A ``resumable``
        one is the same file for every attempt (a resumed run goes on with what the last one committed);
        otherwise each attempt starts a new one."""
        if resumable:
            path = jobs_dir() / f"job-{self.job.pk}{suffix}.part"
        else:
            path = jobs_dir() / f"job-{self.job.pk}-try{self.job.attempts}{suffix}.part"
            path.unlink(missing_ok=True)
        path.touch(mode=0o600)
        self._work_files.append(path)
        return path

    def drop(self, path: Path) -> None:
        """A work file the run decided not to keep (an error report with no errors)."""
        path.unlink(missing_ok=True)
        self._work_files = [p for p in self._work_files if p != path]

    def discard(self) -> None:
        for path in self._work_files:
            path.unlink(missing_ok=True)


def start(
    code: str,
    *,
    actor: Any,
    params: dict[str, Any],
    title: str = "",
    source: str | None = None,
    enqueue: bool = True,
) -> Job:
    """Queue a job of kind ``code`` for ``actor`` (its owner); the worker picks it up after the commit.
    ``enqueue=False``: the caller runs it (``run``), as the command line does to draw its progress bar."""
    from kith.audit.context import current
    from kith.jobs.tasks import run_job

    registry.kind(code)  # an unknown kind is a programming error: raise now, not in the worker
    with transaction.atomic():
        job = Job.objects.create(
            kind=code,
            title=title[:200],
            owner=actor,
            params=params,
            source=(source or current().source or "web")[:16],
        )
        if enqueue:
            transaction.on_commit(lambda: run_job.enqueue(job.pk))
    return job


def _claim(job_id: int) -> Job | None:
    """Mark the job running for this worker; None when it is finished, cancelled or alive elsewhere."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in UNFINISHED:
            return None
        now = timezone.now()
        if job.status == JobStatus.RUNNING and job.heartbeat_at and now - job.heartbeat_at < STALE_AFTER:
            return None  # another worker runs it
        if job.cancel_requested:
            job.status, job.finished_at = JobStatus.CANCELLED, now
            job.save(update_fields=["status", "finished_at"])
            return None
        job.attempts += 1
        if job.attempts > MAX_ATTEMPTS:
            job.status, job.finished_at = JobStatus.FAILED, now
            job.message = _(
                "The job was stopped %(count)s times before it could finish; it was given up."
            ) % {"count": MAX_ATTEMPTS}
            job.save(update_fields=["status", "finished_at", "message", "attempts"])
            return None
        job.status, job.heartbeat_at, job.done = JobStatus.RUNNING, now, 0
        job.started_at = job.started_at or now
        job.save(update_fields=["status", "heartbeat_at", "done", "started_at", "attempts"])
        return job


def _user_message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("You may not do this.")
    return _("The job failed unexpectedly (%(error)s). The details are in the worker's log.") % {
        "error": type(exc).__name__
    }


def run(job_id: int, *, on_change: Any = None) -> Job | None:
    """Run the job (in a worker, or in the CLI with ``on_change`` drawing a bar); return it when this call
    ran it, else None."""
    job = _claim(job_id)
    if job is None:
        return None
    progress = Progress(job, on_change)
    try:
        result = registry.kind(job.kind).run(job, progress)
    except Cancelled:
        progress.discard()
        _finish(job, JobStatus.CANCELLED, progress, message=_("Cancelled."))
    except Exception as exc:  # the job's row says it failed; the worker goes on with the next job
        progress.discard()
        if not isinstance(exc, (ValidationError, PermissionDenied)):
            log.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, JobStatus.FAILED, progress, message=_user_message(exc))
    else:
        _finish(job, JobStatus.SUCCEEDED, progress, result=result)
    return job


def _finish(
    job: Job, status: str, progress: Progress, *, result: dict[str, Any] | None = None, message: str = ""
) -> None:
    file_name = ""
    if status == JobStatus.SUCCEEDED and progress._work_files:
        work = progress._work_files[-1]
        final = work.with_name(work.name.removesuffix(".part"))
        os.replace(work, final)
        file_name = final.name
    job.status, job.finished_at, job.heartbeat_at = status, timezone.now(), timezone.now()
    job.done, job.total = progress.done, progress.total if progress.total is not None else progress.done
    job.result, job.message, job.file_name = result or {}, message, file_name
    # one transaction: what the status change sets off on save (the webhooks' "finished" event rows) is
    # written with it, or not at all
    with transaction.atomic():
        job.save(
            update_fields=[
                "status",
                "finished_at",
                "heartbeat_at",
                "done",
                "total",
                "result",
                "message",
                "file_name",
            ]
        )


def save_checkpoint(job: Job, result: dict[str, Any]) -> None:
    """Keep ``result`` on the job at once: a runner's checkpoint, which an attempt run again after a lost
    worker reads from ``job.result`` (the finished run's result replaces it)."""
    Job.objects.filter(pk=job.pk).update(result=result)
    job.result = result


def cancel(job: Job, *, actor: Any) -> None:
    """Ask a queued or running job to stop (the runner stops at its next progress report)."""
    if not may_manage(actor, job):
        raise PermissionDenied(_("You may not cancel this job."))
    if job.is_finished:
        raise ValidationError(_("This job has already finished."))
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED,
            cancel_requested=True,
            finished_at=timezone.now(),
            message=_("Cancelled."),
        )
        if not updated:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.refresh_from_db()


def may_manage(user: Any, job: Job) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (user.pk == job.owner_id or user.is_superuser)


def recover_stale(now: dt.datetime | None = None) -> list[int]:
    """Queue again the running jobs whose worker stopped giving signs of life; return their ids."""
    from kith.jobs.tasks import run_job

    now = now or timezone.now()
    stale = list(
        Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER).values_list(
            "pk", flat=True
        )
    )
    requeued = []
    for pk in stale:
        with transaction.atomic():
            if Job.objects.filter(pk=pk, status=JobStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER).update(
                status=JobStatus.QUEUED
            ):
                requeued.append(pk)
                transaction.on_commit(functools.partial(run_job.enqueue, pk))
    for path in jobs_dir().glob("job-*.part"):
        # an attempt's own file is garbage once that attempt stopped running; a resumable one while its
        # job is unfinished is what the next attempt goes on with
        try:
            job_id = int(path.name.split("-")[1].split(".")[0])
        except (IndexError, ValueError):
            continue
        alive = (JobStatus.RUNNING,) if "-try" in path.name else UNFINISHED
        if not Job.objects.filter(pk=job_id, status__in=alive).exists():
            path.unlink(missing_ok=True)
    return requeued


def purge_files(now: dt.datetime | None = None) -> int:
    """Delete the files of jobs finished more than ``KITH_JOB_FILE_DAYS`` ago (exports hold personal
    data; they are not kept for ever); return how many."""
    days = int(getattr(settings, "KITH_JOB_FILE_DAYS", 7))
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    purged = 0
    for job in Job.objects.filter(finished_at__lt=cutoff).exclude(file_name=""):
        path = file_path(job)
        if path is not None:
            path.unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(file_name="", result={**job.result, "file_purged": True})
        purged += 1
    uploads = jobs_dir() / "uploads"  # files uploaded for an import: personal data, kept as long
    if uploads.is_dir():
        for path in uploads.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                purged += 1
    return purged
