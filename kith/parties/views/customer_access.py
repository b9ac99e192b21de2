"""Who can see a customer and why, and sharing it with a user or a team."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kith.core.forms import apply_service_errors
from kith.parties.models import Customer
from kith.parties.selectors.customers import can_change, customer_by_number
from kith.security import services as security
from kith.security.forms import ShareForm
from kith.security.models import Share
from kith.security.rules import has_permission
from kith.security.selectors import who_can_see


@login_required
@require_http_methods(["GET", "POST"])
def customer_access(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_by_number(user=request.user, customer_number=number)
    may_share = can_change(request.user, customer)
    form = ShareForm(request.POST or None)
    if request.method == "POST":
        if not may_share:
            raise PermissionDenied(_("Only those who may change this customer may share it."))
        if form.is_valid():
            try:
                security.share(
                    customer,
                    user=form.cleaned_data["user"],
                    team=form.cleaned_data["team"],
                    access=form.cleaned_data["access"],
                    actor=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(request, _("Shared. It takes effect at once."))
                return redirect("parties:customer_access", number=customer.customer_number)
    shares = Share.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
    ).select_related("user", "team", "created_by")
    explain = has_permission(request.user, "security", "view")
    default, people = (
        who_can_see("customer", owner_id=customer.owner_id, object_id=customer.pk) if explain else ("", [])
    )
    return render(
        request,
        "parties/customer_access.html",
        {
            "customer": customer,
            "shares": shares,
            "form": form,
            "may_share": may_share,
            "explain": explain,
            "default": default,
            "people": people,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def share_remove(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    customer = customer_by_number(user=request.user, customer_number=number)
    if not can_change(request.user, customer):
        raise PermissionDenied(_("Only those who may change this customer may change its sharing."))
    row = get_object_or_404(
        Share, pk=pk, content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
    )
    security.unshare(row)
    messages.success(request, _("No longer shared."))
    return redirect("parties:customer_access", number=customer.customer_number)
