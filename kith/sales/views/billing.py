"""Invoice pages (/sales/invoices/): list, an invoice by hand, the invoice with its payments and the
payment form, void; and a customer's outstanding balance per currency."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError, DomainError
from kith.core.forms import apply_service_errors
from kith.sales import currencies
from kith.sales.billing_forms import InvoiceFilterForm, InvoiceForm, PaymentForm
from kith.sales.models import Invoice, InvoiceStatus
from kith.sales.order_types import INVOICE
from kith.sales.selectors import billing as selectors
from kith.sales.services import billing as services
from kith.sales.views._edit import conflict_notice, posted_version
from kith.sales.views._lists import list_page
from kith.security.rules import CREATE, EDIT, has_permission, require_permission


def _can(user: Any, invoice: Invoice | None = None) -> dict[str, bool]:
    status = invoice.status if invoice is not None else ""
    return {
        "create": has_permission(user, INVOICE, CREATE),
        "pay": has_permission(user, INVOICE, CREATE)
        and status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID),
        "void": has_permission(user, INVOICE, EDIT)
        and status != InvoiceStatus.VOID
        and invoice is not None
        and not invoice.paid,
    }


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    form = InvoiceFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {
            "status": form.cleaned_data.get("status") or "",
            "customer_number": form.cleaned_data.get("customer") or "",
            "q": form.cleaned_data.get("q") or "",
        }
    rows = selectors.invoice_list(user=request.user, **filters)
    return render(
        request,
        "sales/billing/invoice_list.html",
        {"form": form, **list_page(request, rows), "can": _can(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def invoice_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, INVOICE, CREATE)
    form = InvoiceForm(
        request.POST or None,
        initial={"currency": currencies.default_code(), "customer": request.GET.get("customer", "")},
    )
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["customer"] = (data.get("customer") or "").strip()
            try:
                invoice = services.invoice_create(actor=request.user, data=data)
            except ValidationError as error:
                apply_service_errors(error, form)
            else:
                messages.success(request, _("The invoice %(number)s is issued.") % {"number": invoice.number})
                return redirect("sales:invoice_detail", pk=invoice.pk)
        return render(request, "sales/billing/invoice_form.html", {"form": form}, status=400)
    return render(request, "sales/billing/invoice_form.html", {"form": form})


def _detail_page(
    request: HttpRequest, invoice: Invoice, form: PaymentForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "invoice": invoice,
        "payments": list(invoice.payments.all()),
        "can": _can(request.user, invoice),
        "form": form
        or PaymentForm(initial={"amount": invoice.outstanding if invoice.outstanding > 0 else ""}),
    }
    return render(request, "sales/billing/invoice_detail.html", context, status=status)


@login_required
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, selectors.invoice_for(request.user, pk))


@login_required
@require_POST
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.invoice_for(request.user, pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "allow_overpayment"}
        data["invoice"] = invoice
        try:
            services.payment_create(
                actor=request.user,
                data=data,
                allow_overpayment=bool(form.cleaned_data.get("allow_overpayment")),
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The payment is recorded."))
            return redirect("sales:invoice_detail", pk=invoice.pk)
    return _detail_page(request, selectors.invoice_for(request.user, pk), form, status=400)


@login_required
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.invoice_for(request.user, pk, write=True)
    try:
        services.invoice_void(actor=request.user, invoice=invoice, expected_version=posted_version(request))
    except ConflictError:
        messages.error(request, conflict_notice())
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The invoice is void."))
    return redirect("sales:invoice_detail", pk=invoice.pk)


@login_required
@require_GET
def customer_balance(request: HttpRequest, number: str) -> HttpResponse:
    customer, balance = selectors.customer_balance(user=request.user, customer_number=number)
    return render(
        request,
        "sales/billing/customer_balance.html",
        {
            "customer": customer,
            "balance": sorted(balance.items()),
            "open_invoices": list(selectors.open_invoices_of(request.user, customer)[:100]),
        },
    )
