"""Job pages: my jobs, one job with a live progress bar, its file, cancel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kith.jobs import registry, selectors, services
from kith.jobs.models import Job

PAGE_SIZE = 50


def _job(request: HttpRequest, pk: int) -> Job:
    job = selectors.job_for(request.user, pk)
    if job is None:
        raise Http404
    job.kind_label = registry.label_of(job.kind)  # type: ignore[attr-defined]
    job.result_template = registry.result_template(job.kind)  # type: ignore[attr-defined]
    return job


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = list(selectors.jobs_for(request.user)[:PAGE_SIZE])
    for job in jobs:
        job.kind_label = registry.label_of(job.kind)  # type: ignore[attr-defined]
    return render(request, "jobs/job_list.html", {"jobs": jobs})


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "jobs/job_detail.html", {"job": _job(request, pk)})


@login_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel, polled by htmx every second until the job has finished."""
    return render(request, "jobs/_progress.html", {"job": _job(request, pk)})


@login_required
@require_GET
def job_file(request: HttpRequest, pk: int) -> FileResponse:
    return services.file_response(_job(request, pk), request.user)


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        services.cancel(job, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    return redirect("jobs:detail", pk=job.pk)
