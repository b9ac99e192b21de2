"""REST API of products, price lists and exchange rates (token area ``sales``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, validated
from kith.parties.selectors.customers import customer_by_number
from kith.sales import selectors, services
from kith.sales.api import serializers as s
from kith.sales.api.params import PAGING, page_of
from kith.sales.models import PriceList

MAX_QUANTITY = Decimal("1e11")


def _price_list(price_list: PriceList, user: Any) -> dict[str, Any]:
    price_list.items_shown = selectors.items_of(user, price_list)  # type: ignore[attr-defined]
    data = dict(s.PriceListSerializer(price_list).data)
    data["items"] = [dict(s.PriceListItemSerializer(i).data) for i in price_list.items_shown]  # type: ignore[attr-defined]
    return data


class ProductListView(KithAPIView):
    @extend_schema(
        operation_id="products_list",
        summary="Products, filtered and ordered",
        parameters=[
            OpenApiParameter("q", str, description="SKU or name prefix (case ignored)"),
            OpenApiParameter("active", bool),
            OpenApiParameter("category", str),
            OpenApiParameter(
                "ordering", str, enum=[*selectors.ORDERINGS, *(f"-{o}" for o in selectors.ORDERINGS)]
            ),
            *PAGING,
        ],
        responses={200: s.ProductPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        ordering = params.get("ordering") or "sku"
        if ordering.lstrip("-") not in selectors.ORDERINGS:
            raise field_error(
                "ordering", _("Order by one of: %(keys)s.") % {"keys": ", ".join(selectors.ORDERINGS)}
            )
        active_raw = (params.get("active") or "").lower()
        if active_raw not in ("", "true", "false", "1", "0"):
            raise field_error("active", _("Use true or false."))
        active = None if not active_raw else active_raw in ("true", "1")
        rows = selectors.product_list(
            user=request.user,
            q=params.get("q") or "",
            active=active,
            category=params.get("category") or "",
            ordering=ordering,
        )
        return page_of(request, rows, s.ProductSerializer)

    @extend_schema(
        operation_id="products_create",
        request=s.ProductInputSerializer,
        responses={201: s.ProductSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.ProductInputSerializer, request.data)
        product = services.product_create(actor=request.user, data=data)
        return Response(dict(s.ProductSerializer(product).data), status=status.HTTP_201_CREATED)


class ProductDetailView(KithAPIView):
    @extend_schema(
        operation_id="products_retrieve",
        responses={200: s.ProductSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(dict(s.ProductSerializer(selectors.product_for(request.user, pk)).data))

    @extend_schema(
        operation_id="products_partial_update",
        request=s.ProductUpdateSerializer,
        responses={200: s.ProductSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        product = selectors.product_for(request.user, pk)
        data = validated(s.ProductUpdateSerializer, request.data)
        expected = data.pop("expected_version", None)
        product = services.product_update(
            actor=request.user, product=product, data=data, expected_version=expected
        )
        return Response(dict(s.ProductSerializer(product).data))

    @extend_schema(
        operation_id="products_destroy", responses={204: None, **error_responses(401, 403, 404, 409)}
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.product_delete(actor=request.user, product=selectors.product_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductPriceView(KithAPIView):
    @extend_schema(
        operation_id="products_price",
        summary="The unit price of a product for a customer, a quantity and a date (price lists, else list price)",
        parameters=[
            OpenApiParameter("customer", str, description="Customer number; empty: a customer in no group"),
            OpenApiParameter("quantity", str, description="Default 1"),
            OpenApiParameter("date", str, description="YYYY-MM-DD, default today"),
            OpenApiParameter("currency", str, description="ISO 4217 code, default the product's"),
        ],
        responses={200: s.PriceSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        product = selectors.product_for(request.user, pk)
        params = request.query_params
        customer = None
        number = (params.get("customer") or "").strip()
        if number:
            try:
                customer = customer_by_number(user=request.user, customer_number=number)
            except Http404:
                raise field_error("customer", _("No customer you may see has this number.")) from None
        try:
            quantity = Decimal(params.get("quantity") or "1")
            if not quantity.is_finite() or not 0 < quantity < MAX_QUANTITY:
                raise InvalidOperation
        except InvalidOperation:
            raise field_error(
                "quantity", _("Enter a quantity more than zero (and less than 10¹¹).")
            ) from None
        day = timezone.localdate()
        if params.get("date"):
            try:
                parsed = parse_date(params["date"])
            except ValueError:
                parsed = None
            if parsed is None:
                raise field_error("date", _("Enter a date as YYYY-MM-DD."))
            day = parsed
        currency = (params.get("currency") or "").upper() or None
        if currency is not None and currency not in selectors.known_currencies():
            raise field_error("currency", _("Not an ISO 4217 currency code."))
        price = selectors.price_for(product, customer, on=day, quantity=quantity, currency=currency)
        return Response(
            {
                "product": product.pk,
                "customer": customer.customer_number if customer is not None else None,
                "quantity": str(quantity),
                "date": day.isoformat(),
                "unit_price": str(price.amount),
                "currency": price.currency,
                "source": str(price.source),
                "price_list": price.price_list.pk if price.price_list else None,
                "price_list_name": price.price_list.name if price.price_list else None,
                "min_quantity": str(price.min_quantity) if price.min_quantity is not None else None,
            }
        )


class PriceListListView(KithAPIView):
    @extend_schema(
        operation_id="price_lists_list",
        responses={200: s.PriceListSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            [dict(s.PriceListSerializer(p).data) for p in selectors.price_lists_for(request.user)]
        )

    @extend_schema(
        operation_id="price_lists_create",
        request=s.PriceListInputSerializer,
        responses={201: s.PriceListDetailSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.PriceListInputSerializer, request.data)
        items = data.pop("items", None)
        price_list = services.price_list_create(actor=request.user, data=data, items=items)
        return Response(_price_list(price_list, request.user), status=status.HTTP_201_CREATED)


class PriceListDetailView(KithAPIView):
    @extend_schema(
        operation_id="price_lists_retrieve",
        responses={200: s.PriceListDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_price_list(selectors.price_list_for(request.user, pk), request.user))

    @extend_schema(
        operation_id="price_lists_partial_update",
        request=s.PriceListUpdateSerializer,
        responses={200: s.PriceListDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        price_list = selectors.price_list_for(request.user, pk)
        data = validated(s.PriceListUpdateSerializer, request.data)
        items = data.pop("items", None)
        expected = data.pop("expected_version", None)
        price_list = services.price_list_update(
            actor=request.user, price_list=price_list, data=data, items=items, expected_version=expected
        )
        return Response(_price_list(price_list, request.user))

    @extend_schema(
        operation_id="price_lists_destroy", responses={204: None, **error_responses(401, 403, 404)}
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.price_list_delete(actor=request.user, price_list=selectors.price_list_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExchangeRateListView(KithAPIView):
    @extend_schema(
        operation_id="exchange_rates_list",
        parameters=[OpenApiParameter("currency", str, description="Rates from or to this currency")],
        responses={
            200: inline_serializer("ExchangeRateList", {"results": s.ExchangeRateSerializer(many=True)}),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        currency = (request.query_params.get("currency") or "").upper()
        rows = selectors.exchange_rates_for(request.user, currency=currency)[:1000]
        return Response({"results": [dict(s.ExchangeRateSerializer(r).data) for r in rows]})

    @extend_schema(
        operation_id="exchange_rates_create",
        request=s.ExchangeRateInputSerializer,
        responses={201: s.ExchangeRateSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.ExchangeRateInputSerializer, request.data)
        rate = services.exchange_rate_create(actor=request.user, data=data)
        return Response(dict(s.ExchangeRateSerializer(rate).data), status=status.HTTP_201_CREATED)


class ExchangeRateDetailView(KithAPIView):
    @extend_schema(
        operation_id="exchange_rates_destroy", responses={204: None, **error_responses(401, 403, 404)}
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.exchange_rate_delete(actor=request.user, rate=selectors.exchange_rate_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
