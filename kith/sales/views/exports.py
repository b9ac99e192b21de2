"""The Export button of the sales lists: it posts the list's current filters, the list (or its lines) and a
format, starts the export job and opens the job's page (progress, then the file)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from kith.sales.services import exports

# the list page each export goes back to when it cannot start (its filters kept)
LIST_PAGES = {
    "lead": "sales:lead_list",
    "opportunity": "sales:opportunity_list",
    "quote": "sales:quote_list",
    "quote_line": "sales:quote_list",
    "order": "sales:order_list",
    "order_line": "sales:order_list",
    "invoice": "sales:invoice_list",
    "contract": "sales:contract_list",
    "product": "sales:product_list",
    "price_list": "sales:price_list_list",
    "price_list_item": "sales:price_list_list",
    "consumption": "sales:consumption_stats",
}


@login_required
@require_POST
def sales_export(request: HttpRequest) -> HttpResponse:
    export_type = request.POST.get("type", "")
    if export_type not in exports.SPECS:
        raise Http404
    filters = {
        key: [v for v in request.POST.getlist(key) if v]
        for key in request.POST
        if key not in exports.NOT_FILTERS and any(request.POST.getlist(key))
    }
    try:
        # PermissionDenied (no export permission) is the 403 page
        job = exports.start_sales_export(
            actor=request.user,
            export_type=export_type,
            file_format=request.POST.get("format") or "csv",
            filters=filters,
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                messages.error(request, f"{field}: {error}")
        query = QueryDict(mutable=True)
        for key, values in filters.items():
            query.setlist(key, values)
        back = reverse(LIST_PAGES[export_type])
        return redirect(f"{back}?{query.urlencode()}" if query else back)
    return redirect("jobs:detail", pk=job.pk)
