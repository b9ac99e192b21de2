"""Settings → Encryption keys: the keyring, the values under each key at the last count, and counting,
re-encrypting and rotating as background jobs. Looking needs ("security", "view"), starting a job
("security", "administer"). Thin: permission, one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.jobs import services as jobs
from kith.security import encryption
from kith.security.forms import KeyJobForm
from kith.security.rules import ADMINISTER, has_permission, require_permission

JOB_PANEL = "security/_key_job.html"


def _render(request: HttpRequest, template: str) -> HttpResponse:
    found = encryption.key_status(user=request.user)
    response = render(
        request,
        template,
        {
            "found": found,
            "can_change": has_permission(request.user, "security", ADMINISTER),
            # the job page is its owner's: the others follow the progress here
            "job_link": found.running is not None and jobs.may_manage(request.user, found.running),
        },
    )
    if template == JOB_PANEL and found.running is None:
        response["HX-Refresh"] = "true"  # the job has finished: reload the page with the new count
    return response


@login_required
@require_GET
def encryption_keys(request: HttpRequest) -> HttpResponse:
    return _render(request, "security/encryption.html")


@login_required
@require_GET
def encryption_job(request: HttpRequest) -> HttpResponse:
    """The running key job's panel, polled by htmx while it is queued or running."""
    return _render(request, JOB_PANEL)


@login_required
@require_POST
def encryption_count(request: HttpRequest) -> HttpResponse:
    try:
        encryption.start_count(actor=request.user)
    except encryption.KeyJobRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The count was queued; a background worker does it."))
    return redirect("encryption:keys")


def _confirm(request: HttpRequest, *, rotate: bool) -> HttpResponse:
    require_permission(request.user, "security", ADMINISTER)
    form = KeyJobForm(request.POST if request.method == "POST" else None, rotate=rotate)
    if request.method == "POST" and form.is_valid():
        also = bool(form.cleaned_data["indexes"])
        try:
            if rotate:
                encryption.start_rotate(actor=request.user, index=also)
            else:
                encryption.start_reencrypt(actor=request.user, indexes=also)
        except encryption.KeyJobRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The rotation was queued; a background worker does it.")
                if rotate
                else _("The re-encryption was queued; a background worker does it."),
            )
        return redirect("encryption:keys")
    return render(
        request,
        "security/encryption_confirm.html",
        {"form": form, "rotate": rotate, "found": encryption.key_status(user=request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def encryption_reencrypt(request: HttpRequest) -> HttpResponse:
    return _confirm(request, rotate=False)


@login_required
@require_http_methods(["GET", "POST"])
def encryption_rotate(request: HttpRequest) -> HttpResponse:
    return _confirm(request, rotate=True)
