"""The duplicates report (likely-same customers with a score and the reasons) and the merge page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError
from kith.core.settings_store import get_setting
from kith.parties.selectors import duplicates as selectors
from kith.parties.selectors.customers import customer_by_number
from kith.parties.services import duplicates, merge
from kith.security.masking import field_view
from kith.security.rules import EDIT, require_permission


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "customer", EDIT)
    pairs, more = selectors.open_pairs(request.user, after=request.GET.get("after", ""))
    return render(
        request,
        "parties/duplicates.html",
        {
            "pairs": pairs,
            "next_url": f"{reverse('parties:duplicates')}?after={more}" if more else "",
            "total": selectors.open_count(request.user),
            "total_cap": selectors.COUNT_CAP,
            "scanned_until": get_setting(duplicates.WATERMARK),
        },
    )


@login_required
@require_POST
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    job = duplicates.start_scan_all(actor=request.user)
    return redirect("jobs:detail", pk=job.pk)


@login_required
@require_POST
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = selectors.pair_for(request.user, pk)
    if candidate is None:
        raise Http404
    try:
        duplicates.dismiss(actor=request.user, candidate=candidate)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Marked as two different customers; the pair will not be proposed again.")
        )
    return redirect("parties:duplicates")


def _rows(user: Any, survivor: Any, other: Any) -> list[dict[str, Any]]:
    views = (field_view(user, survivor), field_view(user, other))
    rows = []
    defaults = merge.default_choices(survivor, other)
    for field in merge.merge_fields(survivor.kind):
        label = str(getattr(type(survivor)._meta.get_field(field), "verbose_name", field))
        values = []
        for customer, view in zip((survivor, other), views, strict=True):
            value = str(customer.owner or "") if field == "owner" else getattr(customer, field)
            choices = dict(getattr(type(customer)._meta.get_field(field), "choices", None) or ())
            value = choices.get(value, value) if value not in (None, "") else value
            values.append(
                "" if not view.shows(field) else view.display(field, value if value is not None else "")
            )
        if values[0] == values[1] == "":
            continue
        locked = not all(v.can_write(field) for v in views)
        rows.append(
            {"field": field, "label": label, "values": values, "choice": defaults[field], "locked": locked}
        )
    custom_keys = sorted(set(survivor.custom_data or {}) | set(other.custom_data or {}))
    for key in custom_keys:
        name = f"custom.{key}"
        values = [
            "" if not view.shows(name) else view.display(name, (c.custom_data or {}).get(key, ""))
            for c, view in zip((survivor, other), views, strict=True)
        ]
        rows.append(
            {
                "field": name,
                "label": key,
                "values": values,
                "choice": defaults.get(name, merge.SURVIVOR),
                "locked": not all(v.can_write(name) for v in views),
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def customer_merge(request: HttpRequest) -> HttpResponse:
    """``?keep=NUMBER&merge=NUMBER``: the two side by side, a value chosen per field, then merged."""
    require_permission(request.user, "customer", EDIT)
    source = request.POST if request.method == "POST" else request.GET
    survivor = customer_by_number(user=request.user, customer_number=source.get("keep", ""))
    other = customer_by_number(user=request.user, customer_number=source.get("merge", ""))
    if survivor.pk == other.pk:
        messages.error(request, _("Choose two different customers."))
        return redirect("parties:duplicates")
    status = 200
    if request.method == "POST":
        choices = {
            key.removeprefix("choice:"): str(value)
            for key, value in request.POST.items()
            if key.startswith("choice:")
        }
        versions = [str(request.POST.get(name, "")) for name in ("keep_version", "merge_version")]
        keep_version, merge_version = (int(v) if v.isdigit() else None for v in versions)
        try:
            kept = merge.customer_merge(
                actor=request.user,
                survivor=survivor,
                merged=other,
                survivor_version=keep_version,
                merged_version=merge_version,
                choices=choices,
            )
        except ConflictError:
            messages.error(
                request, _("One of the two customers was changed meanwhile; check the values again.")
            )
            return redirect(
                f"{reverse('parties:customer_merge')}?keep={survivor.customer_number}&merge={other.customer_number}"
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
            status = 400
        else:
            messages.success(
                request,
                _("%(old)s was merged into %(new)s.")
                % {"old": other.customer_number, "new": kept.customer_number},
            )
            return redirect("parties:customer_detail", number=kept.customer_number)
    return render(
        request,
        "parties/customer_merge.html",
        {"survivor": survivor, "other": other, "rows": _rows(request.user, survivor, other)},
        status=status,
    )
