"""Forecast pages (/sales/forecast/): the forecast against target with a chart, the stage funnel, the
leaderboard, and the sales targets (list, create, edit, delete)."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kith.core.forms import apply_service_errors
from kith.sales.choices import OPPORTUNITY
from kith.sales.forecast_forms import (
    ForecastForm,
    FunnelForm,
    LeaderboardForm,
    TargetFilterForm,
    TargetForm,
    default_currency,
    parse_subject,
)
from kith.sales.models.targets import SalesTarget
from kith.sales.selectors import forecast as selectors
from kith.sales.selectors.opportunities import pipelines
from kith.sales.services import targets as services
from kith.sales.views._edit import form_status, save_versioned
from kith.sales.views._lists import list_page
from kith.security.rules import ADMINISTER, VIEW, has_permission, require_permission

SUBJECT_ALIASES = {"user": "subject", "team": "subject"}


def _may_set_some_target(user: Any) -> bool:
    if has_permission(user, OPPORTUNITY, ADMINISTER):
        return True
    return len(selectors.people_in_reach(user)[:2]) > 1  # someone below them


def duration(seconds: int | None) -> str:
    """A time in stage for people: "3 d 4 h", "5 h 10 min", "12 min"."""
    if seconds is None:
        return "—"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@login_required
@require_GET
def forecast(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, VIEW)
    form = ForecastForm(request.GET or None, user=request.user)
    result = None
    chart = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {"subject": "", "currency": default_currency()}
        date_from, date_to = form.dates() if request.GET else selectors.period_of("month")
        user_id, team_id = parse_subject(data.get("subject") or "")
        try:
            result = selectors.forecast(
                user=request.user,
                subject_user=user_id,
                subject_team=team_id,
                date_from=date_from,
                date_to=date_to,
                currency=data["currency"],
            )
        except Http404:
            form.add_error("subject", _("Choose yourself, a person or a team in your reach."))
        else:
            chart = _chart(result)
    form.show_period()
    return render(
        request,
        "sales/forecast/forecast.html",
        {
            "form": form,
            "result": result,
            "chart": chart,
            "may_set_targets": _may_set_some_target(request.user),
        },
        status=form_status(form),
    )


def _chart(result: selectors.Forecast) -> dict[str, Any]:
    """What forecast.js draws: one stacked bar of won + weighted pipeline beside the target and the
    run-rate (amounts as strings: the page's table keeps the exact figures)."""
    return {
        "currency": result.currency,
        "labels": [_("Forecast"), _("Run-rate"), _("Target")],
        "names": {
            "won": _("Won"),
            "weighted": _("Weighted pipeline"),
            "run_rate": _("Run-rate projection"),
            "target": _("Target"),
        },
        "won": str(result.won),
        "weighted": str(result.weighted_pipeline),
        "run_rate": str(result.run_rate) if result.run_rate is not None else None,
        "target": str(result.target) if result.target is not None else None,
    }


@login_required
@require_GET
def funnel(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, VIEW)
    choices = list(pipelines())
    form = FunnelForm(request.GET or None, pipelines=choices)
    result = None
    if (not request.GET or form.is_valid()) and choices:
        wanted = form.cleaned_data.get("pipeline") if request.GET else ""
        pipeline = next((p for p in choices if str(p.pk) == str(wanted)), choices[0])
        date_from, date_to = form.dates() if request.GET else selectors.period_of("month")
        result = selectors.funnel(user=request.user, pipeline=pipeline, date_from=date_from, date_to=date_to)
    rows = []
    if result is not None:
        rows = [
            {
                "row": row,
                "average": duration(row.average_seconds),
                "median": duration(row.median_seconds),
            }
            for row in result.stages
        ]
    form.show_period()
    return render(
        request,
        "sales/forecast/funnel.html",
        {"form": form, "result": result, "rows": rows},
        status=form_status(form),
    )


@login_required
@require_GET
def leaderboard(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, VIEW)
    form = LeaderboardForm(request.GET or None)
    result = None
    if not request.GET or form.is_valid():
        currency = form.cleaned_data["currency"] if request.GET else default_currency()
        date_from, date_to = form.dates() if request.GET else selectors.period_of("month")
        result = selectors.leaderboard(
            user=request.user, date_from=date_from, date_to=date_to, currency=currency
        )
    form.show_period()
    return render(
        request, "sales/forecast/leaderboard.html", {"form": form, "result": result}, status=form_status(form)
    )


# --- targets ------------------------------------------------------------------------------------------


@login_required
@require_GET
def target_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, VIEW)
    form = TargetFilterForm(request.GET or None, user=request.user)
    filters: dict[str, Any] = {}
    if form.is_valid():
        user_id, team_id = parse_subject(form.cleaned_data.get("subject") or "")
        day = form.cleaned_data.get("on")
        filters = {"subject_user": user_id, "subject_team": team_id, "date_from": day, "date_to": day}
    rows = selectors.target_list(user=request.user, **filters)
    listing = list_page(request, rows)
    editable = services.settable(request.user, list(listing["page"]))
    return render(
        request,
        "sales/forecast/target_list.html",
        {
            "form": form,
            **listing,
            "editable": editable,
            "may_set_targets": _may_set_some_target(request.user),
        },
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def target_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, VIEW)
    initial: dict[str, Any] = {"currency": default_currency(), "subject": request.GET.get("subject", "")}
    date_from, date_to = selectors.period_of("month")
    initial |= {"period_start": date_from, "period_end": date_to}
    form = TargetForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            target = services.target_create(actor=request.user, data=form.service_data())
        except ValidationError as error:
            apply_service_errors(error, form, aliases=SUBJECT_ALIASES)
        else:
            messages.success(request, _("The target is saved."))
            return redirect(_list_url(target))
    return render(request, "sales/forecast/target_form.html", {"form": form}, status=form_status(form))


def _list_url(target: SalesTarget) -> str:
    subject = f"u{target.user_id}" if target.user_id else f"t{target.team_id}"
    return f"{reverse('sales:target_list')}?{urlencode({'subject': subject})}"


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.target_for(request.user, pk)
    services.require_may_set(request.user, user=target.user, team=target.team)
    initial = {
        "period_start": target.period_start,
        "period_end": target.period_end,
        "amount": target.amount,
        "currency": target.currency,
        "note": target.note,
        "version": target.version,
    }
    form = TargetForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return save_versioned(
        request,
        form,
        functools.partial(services.target_update, actor=request.user, target=target),
        template="sales/forecast/target_form.html",
        context={"form": form, "target": target},
        saved=_("The target is saved."),
        then=_list_url(target),
        conflict=_(
            "Someone else changed this target after you opened it. Nothing was saved; your input is "
            "kept below. Reload the page to see the other change, then apply yours again."
        ),
        aliases=SUBJECT_ALIASES,
    )


@login_required
@require_http_methods(["GET", "POST"])
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.target_for(request.user, pk)
    services.require_may_set(request.user, user=target.user, team=target.team)
    if request.method == "POST":
        services.target_delete(actor=request.user, target=target)
        messages.success(request, _("The target is deleted."))
        return redirect("sales:target_list")
    label = _("the target of %(subject)s from %(start)s to %(end)s") % {
        "subject": target.user or target.team,
        "start": target.period_start.isoformat(),
        "end": target.period_end.isoformat(),
    }
    return render(
        request, "sales/confirm_delete.html", {"object": label, "cancel_url": reverse("sales:target_list")}
    )
