"""Order pages (/sales/orders/): list, create, the order with its lines, shipments and invoices, header
edit and lines while a draft, confirm, cancel, ship (a quantity per line, in part), invoice, and making
the order of an accepted quote."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError, DomainError
from kith.core.forms import apply_service_errors
from kith.sales import currencies
from kith.sales.models import Order, OrderStatus
from kith.sales.order_forms import OrderFilterForm, OrderForm, OrderLineForm, ShipForm
from kith.sales.order_types import INVOICE, ORDER
from kith.sales.selectors import orders as selectors
from kith.sales.services import billing as billing_services
from kith.sales.services import orders as services
from kith.sales.views._edit import conflict_notice, posted_version, save_versioned
from kith.sales.views._lists import list_page
from kith.security.rules import CREATE, EDIT, has_permission, require_permission


def _detail(order: Order) -> HttpResponse:
    return redirect("sales:order_detail", pk=order.pk)


def _can(user: Any, order: Order | None = None) -> dict[str, bool]:
    edit = has_permission(user, ORDER, EDIT)
    status = order.status if order is not None else ""
    return {
        "create": has_permission(user, ORDER, CREATE),
        "edit": edit and status == OrderStatus.DRAFT,
        "confirm": edit and status == OrderStatus.DRAFT,
        "cancel": edit and status in services.CANCELLABLE,
        "ship": edit and status in services.SHIPPABLE,
        "invoice": has_permission(user, INVOICE, CREATE) and status in billing_services.INVOICEABLE,
    }


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {
            "status": form.cleaned_data.get("status") or "",
            "customer_number": form.cleaned_data.get("customer") or "",
            "q": form.cleaned_data.get("q") or "",
        }
    rows = selectors.order_list(user=request.user, **filters)
    return render(
        request,
        "sales/orders/order_list.html",
        {"form": form, **list_page(request, rows), "can": _can(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, ORDER, CREATE)
    initial = {"currency": currencies.default_code(), "customer": request.GET.get("customer", "")}
    form = OrderForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.service_data()
            data["customer"] = (form.cleaned_data.get("customer") or "").strip()
            try:
                order = services.order_create(actor=request.user, data=data)
            except ValidationError as error:
                apply_service_errors(error, form)
            else:
                messages.success(
                    request, _("The order %(number)s is started: add its lines.") % {"number": order.number}
                )
                return _detail(order)
        status = 400
    return render(request, "sales/orders/order_form.html", {"form": form}, status=status)


def _context(request: HttpRequest, order: Order, **extra: Any) -> dict[str, Any]:
    lines = list(order.lines.all())
    context: dict[str, Any] = {
        "order": order,
        "lines": lines,
        "shipments": list(order.shipments.all()),
        "invoices": list(order.invoices.all()),
        "can": _can(request.user, order),
        "line_form": OrderLineForm(initial={"quantity": "1", "version": order.version}),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_detail(request.user, pk)
    return render(request, "sales/orders/order_detail.html", _context(request, order))


@login_required
@require_http_methods(["GET", "POST"])
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_for(request.user, pk, write=True)
    initial = {
        "currency": order.currency,
        "requested_delivery_date": order.requested_delivery_date,
        "notes": order.notes,
        "version": order.version,
    }
    form = OrderForm(request.POST or None, initial=initial, editing=True)
    return save_versioned(
        request,
        form,
        functools.partial(services.order_update, actor=request.user, order=order),
        template="sales/orders/order_form.html",
        context={"form": form, "order": order},
        saved=_("The order is saved."),
        then=reverse("sales:order_detail", args=[order.pk]),
        conflict=conflict_notice(),
        conflict_status=400,
    )


def _act(request: HttpRequest, order: Order, action: Callable[[int | None], Any], ok: str) -> HttpResponse:
    """Run a one-button action; refusals come back as messages on the order page."""
    try:
        action(posted_version(request))
    except ConflictError:
        messages.error(request, conflict_notice())
    except DomainError as refused:
        messages.error(request, refused.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, ok)
    return _detail(order)


@login_required
@require_POST
def order_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_for(request.user, pk, write=True)
    form = OrderLineForm(request.POST)
    if form.is_valid():
        try:
            services.order_line_add(
                actor=request.user,
                order=order,
                data=form.service_data(),
                expected_version=posted_version(request),
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except ConflictError:
            form.add_error(None, conflict_notice())
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The line is added."))
            return _detail(order)
    fresh = selectors.order_detail(request.user, pk)
    return render(
        request, "sales/orders/order_detail.html", _context(request, fresh, line_form=form), status=400
    )


@login_required
@require_POST
def order_line_remove(request: HttpRequest, pk: int, line: int) -> HttpResponse:
    order = selectors.order_for(request.user, pk, write=True)
    row = selectors.line_of(order, line)
    return _act(
        request,
        order,
        lambda v: services.order_line_remove(actor=request.user, line=row, expected_version=v),
        _("The line is removed."),
    )


@login_required
@require_POST
def order_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_for(request.user, pk, write=True)
    return _act(
        request,
        order,
        lambda v: services.order_confirm(actor=request.user, order=order, expected_version=v),
        _("The order is confirmed."),
    )


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_for(request.user, pk, write=True)
    return _act(
        request,
        order,
        lambda v: services.order_cancel(actor=request.user, order=order, expected_version=v),
        _("The order is cancelled (what was shipped stays delivered)."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_ship(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_detail(request.user, pk)
    require_permission(request.user, ORDER, EDIT)
    lines = list(order.lines.all())
    form = ShipForm(request.POST or None, lines=lines, initial={"version": order.version})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.shipment_create(
                    actor=request.user,
                    order=order,
                    lines=form.shipped(),
                    shipped_on=form.cleaned_data.get("shipped_on"),
                    carrier=form.cleaned_data.get("carrier") or "",
                    tracking=form.cleaned_data.get("tracking") or "",
                    note=form.cleaned_data.get("note") or "",
                    expected_version=posted_version(request),
                )
            except ValidationError as error:
                by_index = {
                    f"lines.{i}.quantity": f"line_{line.pk}" for i, (line, _q) in enumerate(form.shipped())
                }
                apply_service_errors(error, form, aliases={**by_index, "lines": "__all__"})
            except ConflictError:
                form.add_error(None, conflict_notice())
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("The shipment is recorded."))
                return _detail(order)
        status = 400
    return render(request, "sales/orders/order_ship.html", {"form": form, "order": order}, status=status)


@login_required
@require_POST
def order_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_for(request.user, pk)
    try:
        invoice = billing_services.invoice_from_order(actor=request.user, order=order)
    except DomainError as refused:
        messages.error(request, refused.message)
        return _detail(order)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _detail(order)
    messages.success(request, _("The invoice %(number)s is issued.") % {"number": invoice.number})
    return redirect("sales:invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def order_from_quote(request: HttpRequest) -> HttpResponse:
    """Make the order of an accepted quote (``quote``: its id); an existing one is shown instead."""
    from kith.sales.selectors import quotes as quote_selectors

    raw = request.POST.get("quote") or ""
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        raise Http404
    quote = quote_selectors.quote_for(request.user, int(raw))
    existing = selectors.order_of_quote(request.user, quote.pk)
    if existing is not None:
        return _detail(existing)
    try:
        order = services.order_from_quote(actor=request.user, quote=quote)
    except (DomainError, ValidationError) as refused:
        text = refused.message if isinstance(refused, DomainError) else " ".join(refused.messages)
        messages.error(request, text)
        return redirect("sales:quote_detail", pk=quote.pk)
    messages.success(request, _("The order %(number)s is made from the quote.") % {"number": order.number})
    return _detail(order)
