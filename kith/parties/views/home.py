"""The start page and the anniversaries page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kith.parties.selectors.anniversaries import (
    MAX_DAYS,
    anniversaries_count,
    anniversaries_on,
    anniversaries_upcoming,
)
from kith.parties.selectors.follow_ups import follow_ups_due
from kith.parties.selectors.search import CustomerFilters, customer_search
from kith.parties.sensitive import redact_anniversaries
from kith.parties.services.quality import quality_score
from kith.sales.services.approvals import approvals_to_decide
from kith.security.access_requests import requests_to_decide
from kith.security.rules import can_administer_catalogues

HOME_DAYS = 7
OVERDUE_DAYS = 30
HOME_ANNIVERSARIES = 12  # the start page lists the first few and says how many there are
PAGE_ANNIVERSARIES = 200
COUNT_CAP = 1000  # "1000+" is all a person needs to know


def _sees_everyone(user: Any) -> bool:
    # Admins look after the whole book; everybody else starts from their own customers.
    return can_administer_catalogues(user)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    owner_id = None if _sees_everyone(request.user) else request.user.pk
    upcoming = anniversaries_upcoming(
        user=request.user, start=today, days=HOME_DAYS, owner_id=owner_id, limit=HOME_ANNIVERSARIES + 1
    )
    recent = customer_search(user=request.user, filters=CustomerFilters(sort="-updated"), limit=8).rows
    context = {
        "today": today,
        "anniversaries": redact_anniversaries(request.user, upcoming[:HOME_ANNIVERSARIES]),
        "more_anniversaries": len(upcoming) > HOME_ANNIVERSARIES,
        "recent": recent,
        "follow_ups": follow_ups_due(
            user=request.user,
            start=today - dt.timedelta(days=OVERDUE_DAYS),
            end=today + dt.timedelta(days=HOME_DAYS),
            owner_id=owner_id,
        ),
        "mine_only": owner_id is not None,
        "days": HOME_DAYS,
        "pending_access_requests": list(requests_to_decide(request.user)[:5]),
        "pending_deal_approvals": list(approvals_to_decide(request.user)[:5]),
        "quality_score": quality_score(request.user) if can_administer_catalogues(request.user) else None,
    }
    return render(request, "parties/home.html", context)


@login_required
@require_GET
def anniversaries(request: HttpRequest) -> HttpResponse:
    """``?date=YYYY-MM-DD`` for one day, ``?days=N`` for the coming days (from ``date`` or today)."""
    today = timezone.localdate()
    errors: list[str] = []
    raw_date = (request.GET.get("date") or "").strip()
    raw_days = (request.GET.get("days") or "").strip()
    start = today
    if raw_date:
        try:
            start = dt.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": raw_date})
    days = HOME_DAYS
    if raw_days:
        if raw_days.isdigit() and 1 <= int(raw_days) <= MAX_DAYS:
            days = int(raw_days)
        else:
            errors.append(_("Days must be a whole number from 1 to %(max)d.") % {"max": MAX_DAYS})
    scope = request.GET.get("scope") or ("all" if _sees_everyone(request.user) else "mine")
    owner_id = request.user.pk if scope == "mine" else None
    rows: list[Any] = []
    total = 0
    single_day = bool(raw_date) and not raw_days
    if not errors:
        if single_day:
            rows = anniversaries_on(
                user=request.user, date=start, owner_id=owner_id, limit=PAGE_ANNIVERSARIES
            )
            total = anniversaries_count(user=request.user, start=start, owner_id=owner_id, cap=COUNT_CAP)
        else:
            rows = anniversaries_upcoming(
                user=request.user, start=start, days=days, owner_id=owner_id, limit=PAGE_ANNIVERSARIES
            )
            total = anniversaries_count(
                user=request.user, start=start, days=days, owner_id=owner_id, cap=COUNT_CAP
            )
    context = {
        "rows": redact_anniversaries(request.user, rows),
        "total": total,
        "count_cap": COUNT_CAP,
        "errors": errors,
        "start": start,
        "end": start + dt.timedelta(days=days - 1),
        "days": days,
        "single_day": single_day,
        "scope": scope,
        "date_value": raw_date,
        "today": today,
    }
    return render(request, "parties/anniversaries.html", context, status=400 if errors else 200)
