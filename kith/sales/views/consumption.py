"""Consumption pages (/sales/consumption/): the statistics of a customer or a group with a chart against the
previous period, a line entered by hand, deleting a wrong line."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.forms import apply_service_errors
from kith.sales.consumption_forms import ConsumptionLineForm, ConsumptionStatsForm
from kith.sales.selectors import consumption as selectors
from kith.sales.services import consumption as services
from kith.security.rules import CREATE, DELETE, VIEW, has_permission, require_permission

RECENT = 10


def _label(start: Any, period: str) -> str:
    if start is None:
        return ""
    if period == "month":
        return start.strftime("%Y-%m")
    if period == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return start.isoformat()


def _chart(stats: dict[str, Any]) -> dict[str, Any] | None:
    """Revenue per bucket in the leading currency, this period against the previous one."""
    if not stats["currencies"]:
        return None
    code = stats["currencies"][0]
    buckets = stats["buckets"]
    period = stats["period"]
    return {
        "currency": code,
        "labels": [_label(b["start"], period) for b in buckets],
        "previous_labels": [_label(b["previous_start"], period) for b in buckets],
        "current": [str(b["currencies"][code]["current"]["revenue"]) for b in buckets],
        "previous": [str(b["currencies"][code]["previous"]["revenue"]) for b in buckets],
        "names": {
            "current": _("Revenue, %(from)s to %(to)s (%(code)s)")
            % {"from": stats["from"].isoformat(), "to": stats["to"].isoformat(), "code": code},
            "previous": _("Previous period, %(from)s to %(to)s")
            % {"from": stats["previous_from"].isoformat(), "to": stats["previous_to"].isoformat()},
        },
    }


def _total_rows(total: dict[str, Any]) -> list[dict[str, Any]]:
    before, change = total["previous"], total["change"]
    rows = [
        (_("Revenue"), "revenue", True),
        (_("Purchases and usage"), "purchases", False),
        (_("Returns and cancellations"), "returns", False),
        (_("Other charges (not products)"), "other_charges", True),
        (_("Quantity"), "quantity", True),
        (_("Lines"), "lines", True),
    ]
    return [
        {
            "label": label,
            "current": total[key],
            "previous": before[key],
            "change": change[key] if compared else None,
        }
        for label, key, compared in rows
    ]


@login_required
@require_GET
def consumption_stats(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, services.OBJECT_TYPE, VIEW)
    # nothing asked: the reader's own book (their customers and their team's); the form shows the bucket,
    # the owner and the dates the figures use, defaults included
    data = request.GET.copy()
    if not request.GET:
        data.update({"owner": str(request.user.pk), "subordinates": "1"})
    period = data.get("period") or "month"
    data["period"] = period
    if not data.get("to") and not data.get("from"):
        today = timezone.localdate()
        data["to"] = today.isoformat()
        data["from"] = selectors.default_from(
            today, period if period in selectors.PERIODS else "month"
        ).isoformat()
    form = ConsumptionStatsForm(data, initial={"period": "month"}, user=request.user)
    stats = None
    scope = None
    if form.is_valid():
        try:
            query = selectors.StatsQuery.from_params(data)  # type: ignore[arg-type]
            if query.names_someone:
                scope = selectors.consumption_scope(user=request.user, query=query)
                stats = selectors.consumption_stats(scope=scope, query=query)
        except ValidationError as error:
            apply_service_errors(error, form)
    customer = scope.customer if scope is not None else None
    recent = list(selectors.lines_of(user=request.user, customer=customer)[:RECENT]) if customer else []
    chart = _chart(stats) if stats else None
    return render(
        request,
        "sales/consumption/stats.html",
        {
            "form": form,
            "stats": stats,
            "customer": customer,
            "recent": recent,
            "totals": [{**t, "rows": _total_rows(t)} for t in stats["totals"]] if stats else [],
            "chart": chart,
            "chart_rows": list(
                zip(
                    chart["labels"],
                    chart["current"],
                    chart["previous_labels"],
                    chart["previous"],
                    strict=True,
                )
            )
            if chart
            else [],
            "can_add": has_permission(request.user, services.OBJECT_TYPE, CREATE),
            "can_delete": has_permission(request.user, services.OBJECT_TYPE, DELETE),
        },
        status=400 if form.errors else 200,
    )


def _stats_url(number: str) -> str:
    return f"{reverse('sales:consumption_stats')}?{urlencode({'customer': number})}"


@login_required
@require_http_methods(["GET", "POST"])
def consumption_add(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, services.OBJECT_TYPE, CREATE)
    form = ConsumptionLineForm(request.POST or None, initial={"customer": request.GET.get("customer", "")})
    if request.method == "POST" and form.is_valid():
        try:
            line = services.consumption_add(actor=request.user, data=form.service_data())
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The line is recorded: %(line)s.") % {"line": line})
            return redirect(_stats_url(line.customer.customer_number))
    return render(
        request, "sales/consumption/line_form.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def consumption_delete(request: HttpRequest, pk: int) -> HttpResponse:
    line = selectors.line_for(user=request.user, pk=pk)
    services.consumption_delete(actor=request.user, line=line)
    messages.success(request, _("The line is deleted."))
    return redirect(_stats_url(line.customer.customer_number))


@login_required
@require_GET
def consumption_panel(request: HttpRequest) -> HttpResponse:
    """The customer page's panel (loaded with htmx): the last twelve months against the twelve before."""
    number = (request.GET.get("customer") or "").strip()
    if not number or not has_permission(request.user, services.OBJECT_TYPE, VIEW):
        return HttpResponse("")
    try:
        query = selectors.StatsQuery.from_params({"customer": number})
        scope = selectors.consumption_scope(user=request.user, query=query)
    except ValidationError:
        return HttpResponse("")
    stats = selectors.consumption_stats(scope=scope, query=query)
    return render(
        request,
        "sales/consumption/_panel.html",
        {"customer": scope.customer, "totals": stats["totals"], "frequency": stats["frequency"]},
    )
