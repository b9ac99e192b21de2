"""Contract pages (/sales/contracts/): list (renewals due first), create, the contract, edit, delete and
the document download (only for who may see the contract)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kith.core.errors import DomainError
from kith.core.forms import apply_service_errors
from kith.sales import currencies
from kith.sales.contract_forms import ContractFilterForm, ContractForm
from kith.sales.models import Contract
from kith.sales.order_types import CONTRACT
from kith.sales.selectors import contracts as selectors
from kith.sales.services import contracts as services
from kith.sales.views._edit import conflict_notice, form_status, initial_of, save_versioned
from kith.sales.views._lists import list_page
from kith.security.rules import CREATE, DELETE, EDIT, has_permission, require_permission


def _can(user: Any) -> dict[str, bool]:
    return {
        "create": has_permission(user, CONTRACT, CREATE),
        "edit": has_permission(user, CONTRACT, EDIT),
        "delete": has_permission(user, CONTRACT, DELETE),
    }


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    form = ContractFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {
            "status": form.cleaned_data.get("status") or "",
            "customer_number": form.cleaned_data.get("customer") or "",
            "renewing_within": form.cleaned_data.get("renewing"),
            "q": form.cleaned_data.get("q") or "",
        }
    rows = selectors.contract_list(user=request.user, **filters)
    return render(
        request,
        "sales/contracts/contract_list.html",
        {
            "form": form,
            **list_page(request, rows),
            "can": _can(request.user),
            "window": services.renewal_days(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, CONTRACT, CREATE)
    initial = {"currency": currencies.default_code(), "customer": request.GET.get("customer", "")}
    form = ContractForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {**form.service_data(), "customer": (form.cleaned_data.get("customer") or "").strip()}
        try:
            contract = services.contract_create(
                actor=request.user, data=data, document=form.cleaned_data.get("document") or None
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The contract is saved."))
            return redirect("sales:contract_detail", pk=contract.pk)
    return render(request, "sales/contracts/contract_form.html", {"form": form}, status=form_status(form))


@login_required
@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_for(request.user, pk)
    return render(
        request, "sales/contracts/contract_detail.html", {"contract": contract, "can": _can(request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_for(request.user, pk, write=True)
    initial = initial_of(contract, ContractForm, leave=("customer", "document", "remove_document"))
    form = ContractForm(request.POST or None, request.FILES or None, initial=initial, editing=True)

    def update(*, data: dict[str, Any], expected_version: int | None) -> None:
        services.contract_update(
            actor=request.user,
            contract=contract,
            data=data,
            document=form.cleaned_data.get("document") or None,
            remove_document=bool(form.cleaned_data.get("remove_document")),
            expected_version=expected_version,
        )

    return save_versioned(
        request,
        form,
        update,
        template="sales/contracts/contract_form.html",
        context={"form": form, "contract": contract},
        saved=_("The contract is saved."),
        then=reverse("sales:contract_detail", args=[contract.pk]),
        conflict=conflict_notice(),
        conflict_status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_for(request.user, pk, write=True)
    require_permission(request.user, CONTRACT, DELETE)
    if request.method == "POST":
        try:
            services.contract_delete(actor=request.user, contract=contract)
        except DomainError as refused:
            messages.error(request, refused.message)
            return redirect("sales:contract_detail", pk=contract.pk)
        messages.success(request, _("The contract is deleted."))
        return redirect("sales:contract_list")
    return render(
        request,
        "sales/confirm_delete.html",
        {"object": contract, "cancel_url": reverse("sales:contract_detail", args=[contract.pk])},
    )


@login_required
@require_GET
def contract_document(request: HttpRequest, pk: int) -> FileResponse:
    """The contract's document, as an attachment, to who may see the contract (404 otherwise)."""
    return document_response(selectors.contract_for(request.user, pk))


def document_response(contract: Contract) -> FileResponse:
    """The contract's document as an attachment, never cached (404 when it has none or the file is gone);
    the page and the API answer with it."""
    if not contract.document:
        raise Http404
    try:
        handle = contract.document.open("rb")
    except OSError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=contract.document_name or "contract",
        content_type=contract.document_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
