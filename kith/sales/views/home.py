"""``/sales/``: the deals board for those who work with opportunities, the products for the others."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from kith.sales.choices import OPPORTUNITY
from kith.security.rules import VIEW, has_permission


@login_required
def sales_home(request: HttpRequest) -> HttpResponse:
    if has_permission(request.user, OPPORTUNITY, VIEW):
        return redirect("sales:opportunity_board")
    return redirect("sales:product_list")
