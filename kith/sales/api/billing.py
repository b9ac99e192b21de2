"""REST API of invoices, payments and customer balances (token area ``sales``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, results_of, validated
from kith.sales.api import order_serializers as s
from kith.sales.api.params import PAGING, optional_id, page_of
from kith.sales.models import InvoiceStatus
from kith.sales.selectors import billing as selectors
from kith.sales.selectors import orders as order_selectors
from kith.sales.services import billing as services


class InvoiceListView(KithAPIView):
    @extend_schema(
        operation_id="invoices_list",
        parameters=[
            OpenApiParameter("status", str, enum=InvoiceStatus.values),
            OpenApiParameter("customer", str, description="Customer number"),
            OpenApiParameter("order", int),
            *PAGING,
        ],
        responses={200: s.InvoicePageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if params.get("status") and params["status"] not in InvoiceStatus.values:
            raise field_error(
                "status", _("Use one of: %(values)s.") % {"values": ", ".join(InvoiceStatus.values)}
            )
        rows = selectors.invoice_list(
            user=request.user,
            status=params.get("status") or "",
            customer_number=params.get("customer") or "",
            order=optional_id(request, "order"),
        )
        return page_of(request, rows, s.InvoiceSerializer)

    @extend_schema(
        operation_id="invoices_create",
        summary="An invoice by hand, or of an order (order without total: what is not yet invoiced)",
        request=s.InvoiceInputSerializer,
        responses={201: s.InvoiceSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.InvoiceInputSerializer, request.data)
        if data.get("order") and not (data.get("total") or "").strip():
            order = order_selectors.order_for(request.user, data["order"])
            invoice = services.invoice_from_order(
                actor=request.user, order=order, issued_on=data.get("issued_on"), due_on=data.get("due_on")
            )
        else:
            invoice = services.invoice_create(actor=request.user, data=data)
        return Response(s.InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


class InvoiceDetailView(KithAPIView):
    @extend_schema(
        operation_id="invoices_retrieve",
        responses={200: s.InvoiceSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.InvoiceSerializer(selectors.invoice_for(request.user, pk)).data)


class InvoiceVoidView(KithAPIView):
    @extend_schema(
        operation_id="invoices_void",
        request=s.OrderVersionSerializer,
        responses={200: s.InvoiceSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        invoice = selectors.invoice_for(request.user, pk, write=True)
        data = validated(s.OrderVersionSerializer, request.data)
        services.invoice_void(actor=request.user, invoice=invoice, expected_version=data.get("version"))
        return Response(s.InvoiceSerializer(invoice).data)


class InvoicePaymentsView(KithAPIView):
    @extend_schema(
        operation_id="invoices_payments_list",
        responses={200: results_of("PaymentList", s.PaymentSerializer), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        invoice = selectors.invoice_for(request.user, pk)
        return Response(
            {"results": s.PaymentSerializer(invoice.payments.select_related("customer"), many=True).data}
        )

    @extend_schema(
        operation_id="invoices_payments_create",
        summary="Record a payment (more than is owed only with allow_overpayment)",
        request=s.PaymentInputSerializer,
        responses={201: s.PaymentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        invoice = selectors.invoice_for(request.user, pk)
        data = validated(s.PaymentInputSerializer, request.data)
        allow = bool(data.pop("allow_overpayment", False))
        data["invoice"] = invoice
        payment = services.payment_create(actor=request.user, data=data, allow_overpayment=allow)
        return Response(s.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class PaymentListView(KithAPIView):
    @extend_schema(
        operation_id="payments_list",
        parameters=[OpenApiParameter("customer", str, description="Customer number"), *PAGING],
        responses={200: results_of("PaymentPage", s.PaymentSerializer), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.payments_for(request.user).select_related("customer").order_by("-paid_on", "-id")
        if request.query_params.get("customer"):
            rows = rows.filter(customer__customer_number=request.query_params["customer"].strip())
        return page_of(request, rows, s.PaymentSerializer)

    @extend_schema(
        operation_id="payments_create",
        summary="A payment on account (no invoice): a credit of the customer in its currency",
        request=s.AccountPaymentInputSerializer,
        responses={201: s.PaymentSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.AccountPaymentInputSerializer, request.data)
        data.pop("allow_overpayment", None)
        payment = services.payment_create(actor=request.user, data=data)
        return Response(s.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class BalanceView(KithAPIView):
    @extend_schema(
        operation_id="balances_retrieve",
        summary="What a customer owes, per currency",
        responses={200: s.BalanceSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        customer, balance = selectors.customer_balance(user=request.user, customer_number=number)
        return Response(
            {
                "customer": customer.customer_number,
                "balances": {code: str(amount) for code, amount in balance.items()},
            }
        )
