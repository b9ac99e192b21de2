"""Sales pages (/sales/): products (list, page with its prices, create, edit, delete), price lists with their
items (add and remove inline), exchange rates (list, add, delete)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError, DeleteRefused
from kith.core.forms import apply_service_errors
from kith.sales import currencies, selectors, services
from kith.sales.choices import PRICE_LIST, PRODUCT
from kith.sales.forms import (
    ExchangeRateForm,
    PriceListForm,
    PriceListItemForm,
    ProductFilterForm,
    ProductForm,
)
from kith.sales.models import PriceList, Product
from kith.security.rules import CREATE, DELETE, EDIT, require_permission

PAGE_SIZE = 50


def _versioned_edit(
    request: HttpRequest,
    record: Any,
    *,
    form_class: Any,
    update: Callable[..., Any],
    template: str,
    context_name: str,
    saved: Callable[[], str],
    detail: str,
) -> HttpResponse:
    """The edit page of a versioned record: the form filled from the record, the service's field errors
    on the form, a stale version a 409 with the input kept."""
    initial = {f: getattr(record, f) for f in form_class.base_fields if f != "version"}
    initial["version"] = record.version
    form = form_class(request.POST or None, initial=initial)
    context = {"form": form, context_name: record}
    if request.method == "POST" and form.is_valid():
        try:
            update(data=form.service_data(), expected_version=form.cleaned_data.get("version"))
        except ValidationError as error:
            apply_service_errors(error, form)
        except ConflictError:
            form.add_error(None, _conflict_message())
            return render(request, template, context, status=409)
        else:
            messages.success(request, saved())
            return redirect(detail, pk=record.pk)
    return render(request, template, context, status=_status(form))


def _conflict_message() -> str:
    return _(
        "Someone else changed this record after you opened it. Nothing was saved; your input is kept below. "
        "Reload the page to see the other change, then apply yours again."
    )


def _status(form: Any) -> int:
    return 400 if form.errors else 200


# --- products ------------------------------------------------------------------------------------


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    form = ProductFilterForm(request.GET or None, category_choices=selectors.product_categories(request.user))
    filters: dict[str, Any] = {}
    if form.is_valid():
        active = form.cleaned_data.get("active")
        filters = {
            "q": form.cleaned_data.get("q") or "",
            "active": None if active in (None, "") else active == "1",
            "category": form.cleaned_data.get("category") or "",
        }
    page = Paginator(selectors.product_list(user=request.user, **filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "sales/product_list.html",
        {"form": form, "page": page, "query": urlencode(query)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, PRODUCT, CREATE)
    form = ProductForm(
        request.POST or None, initial={"unit": "pcs", "tax_rate": "0", "currency": currencies.default_code()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, data=form.service_data())
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The product “%(sku)s” is saved.") % {"sku": product.sku})
            return redirect("sales:product_detail", pk=product.pk)
    return render(request, "sales/product_form.html", {"form": form}, status=_status(form))


@login_required
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_for(request.user, pk)
    prices = selectors.prices_of_product(request.user, product)
    return render(request, "sales/product_detail.html", {"product": product, "prices": prices})


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_for(request.user, pk)
    require_permission(request.user, PRODUCT, EDIT)
    return _versioned_edit(
        request,
        product,
        form_class=ProductForm,
        update=functools.partial(services.product_update, actor=request.user, product=product),
        template="sales/product_form.html",
        context_name="product",
        saved=lambda: _("The product “%(sku)s” is saved.") % {"sku": product.sku},
        detail="sales:product_detail",
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_for(request.user, pk)
    require_permission(request.user, PRODUCT, DELETE)
    if request.method == "POST":
        try:
            services.product_delete(actor=request.user, product=product)
        except DeleteRefused as refused:
            messages.error(request, refused.message)
            return redirect("sales:product_detail", pk=product.pk)
        messages.success(request, _("The product “%(sku)s” is deleted.") % {"sku": product.sku})
        return redirect("sales:product_list")
    return render(
        request, "sales/confirm_delete.html", {"object": product, "cancel_url": product_url(product)}
    )


def product_url(product: Product) -> str:
    from django.urls import reverse

    return reverse("sales:product_detail", args=[product.pk])


# --- price lists ---------------------------------------------------------------------------------


@login_required
@require_GET
def price_list_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "sales/price_list_list.html", {"price_lists": selectors.price_lists_for(request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def price_list_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, PRICE_LIST, CREATE)
    form = PriceListForm(request.POST or None, initial={"currency": currencies.default_code()})
    if request.method == "POST" and form.is_valid():
        try:
            price_list = services.price_list_create(actor=request.user, data=form.service_data())
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The price list is saved; add its prices below."))
            return redirect("sales:price_list_detail", pk=price_list.pk)
    return render(request, "sales/price_list_form.html", {"form": form}, status=_status(form))


def _price_list_page(
    request: HttpRequest, price_list: PriceList, item_form: PriceListItemForm | None = None, status: int = 200
) -> HttpResponse:
    products = selectors.products_for(request.user).filter(is_active=True).order_by("sku", "pk")
    return render(
        request,
        "sales/price_list_detail.html",
        {
            "price_list": price_list,
            "items": selectors.items_of(request.user, price_list),
            "item_form": item_form or PriceListItemForm(products=products),
        },
        status=status,
    )


@login_required
@require_GET
def price_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _price_list_page(request, selectors.price_list_for(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def price_list_edit(request: HttpRequest, pk: int) -> HttpResponse:
    price_list = selectors.price_list_for(request.user, pk)
    require_permission(request.user, PRICE_LIST, EDIT)
    return _versioned_edit(
        request,
        price_list,
        form_class=PriceListForm,
        update=functools.partial(services.price_list_update, actor=request.user, price_list=price_list),
        template="sales/price_list_form.html",
        context_name="price_list",
        saved=lambda: _("The price list “%(name)s” is saved.") % {"name": price_list.name},
        detail="sales:price_list_detail",
    )


@login_required
@require_http_methods(["GET", "POST"])
def price_list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    price_list = selectors.price_list_for(request.user, pk)
    require_permission(request.user, PRICE_LIST, DELETE)
    if request.method == "POST":
        services.price_list_delete(actor=request.user, price_list=price_list)
        messages.success(request, _("The price list “%(name)s” is deleted.") % {"name": price_list.name})
        return redirect("sales:price_list_list")
    from django.urls import reverse

    return render(
        request,
        "sales/confirm_delete.html",
        {"object": price_list, "cancel_url": reverse("sales:price_list_detail", args=[price_list.pk])},
    )


@login_required
@require_POST
def price_list_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    price_list = selectors.price_list_for(request.user, pk)
    require_permission(request.user, PRICE_LIST, EDIT)
    products = selectors.products_for(request.user).filter(is_active=True).order_by("sku", "pk")
    form = PriceListItemForm(request.POST, products=products)
    if form.is_valid():
        try:
            services.price_list_item_add(actor=request.user, price_list=price_list, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The price is added."))
            return redirect("sales:price_list_detail", pk=price_list.pk)
    return _price_list_page(request, price_list, form, status=400)


@login_required
@require_POST
def price_list_item_remove(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    price_list = selectors.price_list_for(request.user, pk)
    row = selectors.item_of(request.user, price_list, item)
    services.price_list_item_remove(actor=request.user, item=row)
    messages.success(request, _("The price is removed."))
    return redirect("sales:price_list_detail", pk=price_list.pk)


# --- exchange rates ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def exchange_rates(request: HttpRequest) -> HttpResponse:
    rows = selectors.exchange_rates_for(request.user)
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST":
        require_permission(request.user, PRICE_LIST, CREATE)
        if form.is_valid():
            try:
                services.exchange_rate_create(actor=request.user, data=form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(error, form)
            else:
                messages.success(request, _("The exchange rate is saved."))
                return redirect("sales:exchange_rates")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sales/exchange_rates.html", {"form": form, "page": page}, status=_status(form))


@login_required
@require_POST
def exchange_rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rate = selectors.exchange_rate_for(request.user, pk)
    services.exchange_rate_delete(actor=request.user, rate=rate)
    messages.success(request, _("The exchange rate is deleted."))
    return redirect("sales:exchange_rates")
