"""The backups page (/settings/backups/): the backups with size, date and verification; start one as a job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kith.backups import selectors
from kith.backups.errors import BackupError
from kith.backups.services import jobs
from kith.security.rules import ADMINISTER, require_permission


def _job_context() -> dict[str, object]:
    job = selectors.last_job()
    error = ""
    if job is not None and job.errors:
        # the exception's message (the traceback's last line), not the whole traceback
        error = (job.errors[-1].traceback.strip().splitlines() or [""])[-1]
    return {
        "job": job,
        "job_unfinished": job is not None and job.status in jobs.UNFINISHED,
        "job_error": error,
    }


@login_required
@require_GET
def backup_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "backup", ADMINISTER)
    return render(request, "backups/backups.html", {"backups": selectors.backup_list(), **_job_context()})


@login_required
@require_GET
def backup_job_status(request: HttpRequest) -> HttpResponse:
    """The status panel, polled by htmx while a job is queued or running."""
    require_permission(request.user, "backup", ADMINISTER)
    context = _job_context()
    response = render(request, "backups/_job.html", context)
    if not context["job_unfinished"]:
        response["HX-Refresh"] = "true"  # the job has finished: reload to list the new backup
    return response


@login_required
@require_POST
def backup_start(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "backup", ADMINISTER)
    try:
        jobs.start_backup_job(actor=request.user)
    except BackupError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The backup was queued; a background worker makes and verifies it."))
    return redirect("backups:list")
