"""The data-quality page: the score, the rules with their counts, bulk fixes; admins manage the rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kith.parties.models import DataQualityRule
from kith.parties.selectors import catalogues
from kith.parties.services import quality
from kith.security.rules import EDIT, can_administer_catalogues, require_permission


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{m}" for messages_ in exc.message_dict.values() for m in messages_)
    return " ".join(exc.messages)


@login_required
@require_GET
def quality_report(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "customer", EDIT)
    rows = quality.report(request.user)
    context: dict[str, Any] = {
        "rows": rows,
        "score": quality.quality_score(request.user, rows),
        "is_admin": can_administer_catalogues(request.user),
        "kinds": quality.kind_choices(),
        "fields": list(quality.CHECKABLE_FIELDS),
        "actions": [(code, str(label)) for code, label in quality.ACTIONS.items()],
        "users": catalogues.account_managers(request.user),  # the owners this user may hand customers to
    }
    return render(request, "parties/quality.html", context)


@login_required
@require_POST
def quality_rule_create(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    param = request.POST.get("param", "").strip()
    params = {
        "missing_field": {"field": param},
        "no_activity": {"years": param},
        "missing_custom": {"key": param},
    }
    data = {"name": request.POST.get("name", ""), "kind": kind, "params": params.get(kind, {})}
    try:
        rule = quality.rule_create(actor=request.user, data=data)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Rule “%(name)s” added.") % {"name": rule.name})
    return redirect("parties:quality")


@login_required
@require_POST
def quality_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(DataQualityRule, pk=pk)
    quality.rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("parties:quality")


@login_required
@require_POST
def quality_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(DataQualityRule, pk=pk, is_active=True)
    try:
        job = quality.start_bulk(
            actor=request.user,
            rule=rule,
            action=request.POST.get("action", ""),
            value=request.POST.get("value", ""),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("parties:quality")
    return redirect("jobs:detail", pk=job.pk)
