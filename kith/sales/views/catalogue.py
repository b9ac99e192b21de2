"""Sales pages (/sales/): products (list, page with its prices, create, edit, delete), price lists with their
items (add and remove inline), exchange rates (list, add, delete)."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import DeleteRefused
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
from kith.sales.views._edit import form_status, initial_of, save_versioned
from kith.sales.views._lists import list_page
from kith.security.rules import CREATE, DELETE, EDIT, require_permission

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
    rows = selectors.product_list(user=request.user, **filters)
    return render(request, "sales/product_list.html", {"form": form, **list_page(request, rows)})


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
    return render(request, "sales/product_form.html", {"form": form}, status=form_status(form))


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
    form = ProductForm(request.POST or None, initial=initial_of(product, ProductForm))
    return save_versioned(
        request,
        form,
        functools.partial(services.product_update, actor=request.user, product=product),
        template="sales/product_form.html",
        context={"form": form, "product": product},
        saved=lambda: _("The product “%(sku)s” is saved.") % {"sku": product.sku},
        then=product_url(product),
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
    return render(request, "sales/price_list_form.html", {"form": form}, status=form_status(form))


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
    form = PriceListForm(request.POST or None, initial=initial_of(price_list, PriceListForm))
    return save_versioned(
        request,
        form,
        functools.partial(services.price_list_update, actor=request.user, price_list=price_list),
        template="sales/price_list_form.html",
        context={"form": form, "price_list": price_list},
        saved=lambda: _("The price list “%(name)s” is saved.") % {"name": price_list.name},
        then=reverse("sales:price_list_detail", args=[price_list.pk]),
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
    return render(
        request,
        "sales/exchange_rates.html",
        {"form": form, **list_page(request, rows)},
        status=form_status(form),
    )


@login_required
@require_POST
def exchange_rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rate = selectors.exchange_rate_for(request.user, pk)
    services.exchange_rate_delete(actor=request.user, rate=rate)
    messages.success(request, _("The exchange rate is deleted."))
    return redirect("sales:exchange_rates")
