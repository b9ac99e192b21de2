"""Web pages of the audit trail: the global view, the CSV export, a customer's History tab and restore,
the access summary. Thin: permission, one selector or service, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kith.audit import selectors, services, watch
from kith.audit.choices import AccessKind, Action, Source
from kith.audit.exports import csv_lines
from kith.audit.forms import ThresholdsForm
from kith.audit.models import Alert, AuditEntry
from kith.core.errors import DomainError
from kith.core.forms import apply_service_errors
from kith.parties.selectors.customers import customer_by_number
from kith.security.masking import mask_audit_entries
from kith.security.rules import ADMINISTER, EDIT, EXPORT, VIEW, has_permission, require_permission


def _masked_stream(user: Any, entries: Iterator[AuditEntry], *, chunk: int = 500) -> Iterator[AuditEntry]:
    """Entries with sensitive values masked for ``user`` (``kith.security.masking``), a chunk at a time."""
    batch: list[AuditEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= chunk:
            yield from mask_audit_entries(user, batch)
            batch = []
    if batch:
        yield from mask_audit_entries(user, batch)


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "audit", VIEW)
    filters = selectors.AuditFilters.from_params(request.GET)
    page = selectors.audit_entries(filters) if not filters.errors else selectors.Page([], None)
    page = selectors.Page(mask_audit_entries(request.user, page.entries), page.next_cursor)
    query = filters.as_query()
    return render(
        request,
        "audit/entry_list.html",
        {
            "filters": filters,
            "page": page,
            "actions": Action.choices,
            "sources": Source.choices,
            "next_query": urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else "",
            "export_query": urlencode(query),
            "can_export": has_permission(request.user, "audit", EXPORT),
        },
        status=400 if filters.errors else 200,
    )


@login_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    require_permission(request.user, "audit", EXPORT)
    filters = selectors.AuditFilters.from_params(request.GET)
    if filters.errors:
        return render(
            request,
            "audit/entry_list.html",
            {
                "filters": filters,
                "page": selectors.Page([], None),
                "actions": Action.choices,
                "sources": Source.choices,
            },
            status=400,
        )
    services.record_event(
        Action.EXPORT, object_type="audit.auditentry", details={"filters": filters.as_query()}
    )
    services.log_access(request.user, AccessKind.EXPORT, query=urlencode(filters.as_query()))
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(
        csv_lines(_masked_stream(request.user, selectors.entries_for_export(filters))),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="kith-audit-{stamp}.csv"'
    return response


@login_required
@require_GET
def customer_history(request: HttpRequest, number: str) -> HttpResponse:
    require_permission(request.user, "customer", VIEW)
    customer = customer_by_number(user=request.user, customer_number=number)
    try:
        cursor = int(request.GET["cursor"]) if request.GET.get("cursor") else None
    except ValueError:
        cursor = None
    page = selectors.customer_history(customer.pk, cursor=cursor)
    page = selectors.Page(mask_audit_entries(request.user, page.entries), page.next_cursor)
    can_audit = has_permission(request.user, "audit", VIEW)
    return render(
        request,
        "audit/customer_history.html",
        {
            "customer": customer,
            "page": page,
            "can_restore": has_permission(request.user, "customer", EDIT),
            "lookers": selectors.who_looked(customer.pk) if can_audit and cursor is None else None,
            "looked_days": selectors.WHO_LOOKED_DAYS,
        },
    )


@login_required
@require_POST
def customer_restore(request: HttpRequest, number: str, seq: int) -> HttpResponse:
    require_permission(request.user, "customer", EDIT)
    customer = customer_by_number(user=request.user, customer_number=number)
    entry = selectors.customer_entry(customer.pk, seq)
    if entry is None:
        raise Http404
    try:
        version = int(request.POST.get("version") or customer.version)
    except ValueError:
        version = -1
    field = str(request.POST.get("field") or "")[:60]
    try:
        services.restore_customer(
            actor=request.user, customer=customer, entry=entry, expected_version=version, field=field
        )
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            messages.error(request, f"{name}: {' '.join(errors)}")
        return redirect("audit:customer_history", number=number)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("audit:customer_history", number=number)
    messages.success(request, _("Restored as it was after entry %(seq)s.") % {"seq": seq})
    return redirect("parties:customer_detail", number=number)


@login_required
@require_GET
def access_summary(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "audit", VIEW)
    today = timezone.now().date()
    errors: dict[str, str] = {}
    bounds = {}
    for name, default in (("date_from", today - dt.timedelta(days=6)), ("date_to", today)):
        raw = request.GET.get(name, "")
        try:
            bounds[name] = dt.date.fromisoformat(raw) if raw else default
        except ValueError:
            errors[name] = _("Enter a valid date (YYYY-MM-DD).")
            bounds[name] = default
    username = str(request.GET.get("user") or "")[:150]
    rows = selectors.access_summary(
        date_from=bounds["date_from"], date_to=bounds["date_to"], username=username
    )
    return render(
        request,
        "audit/access_summary.html",
        {"rows": rows, "errors": errors, "username": username, **bounds},
        status=400 if errors else 200,
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "audit", VIEW)
    return render(
        request,
        "audit/dashboard.html",
        {
            **selectors.dashboard(),
            "can_acknowledge": has_permission(request.user, "security", ADMINISTER),
            "thresholds": watch.thresholds(),
        },
    )


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, "security", ADMINISTER)
    alert = get_object_or_404(Alert, pk=pk)
    try:
        watch.acknowledge(actor=request.user, alert=alert)
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            messages.error(request, " ".join(errors))
    else:
        messages.success(request, _("Alert acknowledged."))
    return redirect("audit:dashboard")


@login_required
def alert_settings(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "security", ADMINISTER)
    current_values = watch.thresholds().as_dict()
    if request.method == "POST":
        form = ThresholdsForm(request.POST)
        if form.is_valid():
            try:
                watch.set_thresholds(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(request, _("Alert thresholds saved."))
                return redirect("audit:alert_settings")
        return render(request, "audit/alert_settings.html", {"form": form}, status=400)
    form = ThresholdsForm(initial=current_values)
    return render(request, "audit/alert_settings.html", {"form": form})
