"""REST API of orders and shipments (token area ``sales``; POSTs honour ``Idempotency-Key``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, results_of, validated
from kith.sales.api import order_serializers as s
from kith.sales.api.params import PAGING, page_of
from kith.sales.models import Order, OrderStatus
from kith.sales.selectors import orders as selectors
from kith.sales.services import orders as services


def _order(request: Request, pk: int) -> Order:
    return selectors.order_detail(request.user, pk)


def _out(request: Request, order: Order) -> dict[str, Any]:
    return dict(s.OrderSerializer(_order(request, order.pk)).data)


class OrderListView(KithAPIView):
    @extend_schema(
        operation_id="orders_list",
        summary="Orders you may see, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=OrderStatus.values),
            OpenApiParameter("customer", str, description="Customer number"),
            *PAGING,
        ],
        responses={200: s.OrderPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if params.get("status") and params["status"] not in OrderStatus.values:
            raise field_error(
                "status", _("Use one of: %(values)s.") % {"values": ", ".join(OrderStatus.values)}
            )
        rows = selectors.order_list(
            user=request.user, status=params.get("status") or "", customer_number=params.get("customer") or ""
        ).prefetch_related("lines")
        return page_of(request, rows, s.OrderSerializer)

    @extend_schema(
        operation_id="orders_create",
        summary="Start a draft order (with its lines)",
        request=s.OrderInputSerializer,
        responses={201: s.OrderSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.OrderInputSerializer, request.data)
        lines = [dict(line) for line in data.pop("lines", [])]
        order = services.order_create(actor=request.user, data=data, lines=lines)
        return Response(_out(request, order), status=status.HTTP_201_CREATED)


class OrderFromQuoteView(KithAPIView):
    @extend_schema(
        operation_id="orders_from_quote",
        summary="The order of an accepted quote (one per quote)",
        request=s.FromQuoteSerializer,
        responses={201: s.OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        from kith.sales.selectors import quotes as quote_selectors

        data = validated(s.FromQuoteSerializer, request.data)
        quote = quote_selectors.quote_for(request.user, data["quote"])
        order = services.order_from_quote(actor=request.user, quote=quote, confirm=data["confirm"])
        return Response(_out(request, order), status=status.HTTP_201_CREATED)


class OrderDetailView(KithAPIView):
    @extend_schema(
        operation_id="orders_retrieve", responses={200: s.OrderSerializer, **error_responses(401, 403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.OrderSerializer(_order(request, pk)).data)

    @extend_schema(
        operation_id="orders_partial_update",
        summary="Change a draft (lines, when given, replace every line)",
        request=s.OrderUpdateSerializer,
        responses={200: s.OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        order = selectors.order_for(request.user, pk, write=True)
        data = validated(s.OrderUpdateSerializer, request.data)
        version = data.pop("version", None)
        lines = data.pop("lines", None)
        services.order_update(
            actor=request.user,
            order=order,
            data=data,
            lines=[dict(line) for line in lines] if lines is not None else None,
            expected_version=version,
        )
        return Response(_out(request, order))


class OrderConfirmView(KithAPIView):
    @extend_schema(
        operation_id="orders_confirm",
        request=s.OrderVersionSerializer,
        responses={200: s.OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        order = selectors.order_for(request.user, pk, write=True)
        data = validated(s.OrderVersionSerializer, request.data)
        services.order_confirm(actor=request.user, order=order, expected_version=data.get("version"))
        return Response(_out(request, order))


class OrderCancelView(KithAPIView):
    @extend_schema(
        operation_id="orders_cancel",
        summary="Cancel what is not shipped",
        request=s.OrderVersionSerializer,
        responses={200: s.OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        order = selectors.order_for(request.user, pk, write=True)
        data = validated(s.OrderVersionSerializer, request.data)
        services.order_cancel(actor=request.user, order=order, expected_version=data.get("version"))
        return Response(_out(request, order))


class OrderShipmentsView(KithAPIView):
    @extend_schema(
        operation_id="orders_shipments_list",
        responses={200: results_of("ShipmentList", s.ShipmentSerializer), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        order = _order(request, pk)
        return Response({"results": s.ShipmentSerializer(order.shipments.all(), many=True).data})

    @extend_schema(
        operation_id="orders_shipments_create",
        summary="Ship some or all of what is left (a quantity per order line)",
        request=s.ShipmentInputSerializer,
        responses={201: s.ShipmentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        order = selectors.order_for(request.user, pk, write=True)
        data = validated(s.ShipmentInputSerializer, request.data)
        shipment = services.shipment_create(
            actor=request.user,
            order=order,
            lines=[(line["order_line"], line["quantity"]) for line in data["lines"]],
            shipped_on=data.get("shipped_on"),
            carrier=data.get("carrier") or "",
            tracking=data.get("tracking") or "",
            note=data.get("note") or "",
            expected_version=data.get("version"),
        )
        return Response(s.ShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)
