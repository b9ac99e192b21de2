"""Contract pages (/sales/contracts/): list (renewals due first), create, the contract, edit, delete and
the document download (only for who may see the contract)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kith.core.errors import ConflictError, DomainError
from kith.core.forms import apply_service_errors
from kith.sales import currencies
from kith.sales.contract_forms import ContractFilterForm, ContractForm
from kith.sales.models import Contract
from kith.sales.order_types import CONTRACT
from kith.sales.selectors import contracts as selectors
from kith.sales.services import contracts as services
from kith.sales.views.orders import conflict_message
from kith.security.rules import CREATE, DELETE, EDIT, has_permission, require_permission

PAGE_SIZE = 50


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
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "sales/contracts/contract_list.html",
        {
            "form": form,
            "page": page,
            "query": urlencode(query),
            "can": _can(request.user),
            "window": services.renewal_days(),
        },
    )


def _save(request: HttpRequest, form: ContractForm, contract: Contract | None) -> Contract | None:
    data = form.service_data()
    document = form.cleaned_data.get("document") or None
    try:
        if contract is None:
            data["customer"] = (form.cleaned_data.get("customer") or "").strip()
            return services.contract_create(actor=request.user, data=data, document=document)
        raw = request.POST.get("version") or ""
        return services.contract_update(
            actor=request.user,
            contract=contract,
            data=data,
            document=document,
            remove_document=bool(form.cleaned_data.get("remove_document")),
            expected_version=int(raw) if raw.isdigit() and len(raw) < 10 else None,
        )
    except ValidationError as error:
        apply_service_errors(error, form)
    except ConflictError:
        form.add_error(None, conflict_message())
    except DomainError as refused:
        form.add_error(None, refused.message)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, CONTRACT, CREATE)
    initial = {"currency": currencies.default_code(), "customer": request.GET.get("customer", "")}
    form = ContractForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            contract = _save(request, form, None)
            if contract is not None:
                messages.success(request, _("The contract is saved."))
                return redirect("sales:contract_detail", pk=contract.pk)
        return render(request, "sales/contracts/contract_form.html", {"form": form}, status=400)
    return render(request, "sales/contracts/contract_form.html", {"form": form})


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
    initial = {
        name: getattr(contract, name)
        for name in (
            "title",
            "reference",
            "status",
            "start_date",
            "end_date",
            "value",
            "currency",
            "renewal_date",
            "auto_renew",
            "notice_days",
            "notes",
            "version",
        )
    }
    form = ContractForm(request.POST or None, request.FILES or None, initial=initial, editing=True)
    if request.method == "POST":
        if form.is_valid() and _save(request, form, contract) is not None:
            messages.success(request, _("The contract is saved."))
            return redirect("sales:contract_detail", pk=contract.pk)
        return render(
            request, "sales/contracts/contract_form.html", {"form": form, "contract": contract}, status=400
        )
    return render(request, "sales/contracts/contract_form.html", {"form": form, "contract": contract})


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
    contract = selectors.contract_for(request.user, pk)
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
