"""REST API of quotes (token area ``sales``): list/create (with lines in one POST), get/patch/delete a
draft, lines, send, accept, reject, revise and the PDF."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, results_of, validated
from kith.parties.selectors.customers import customer_by_number
from kith.sales.api import quote_serializers as s
from kith.sales.api.params import PAGING, page_of, whole
from kith.sales.choices import QuoteStatus
from kith.sales.models import CloseReason, Quote
from kith.sales.selectors import quotes as selectors
from kith.sales.services import quote_pdf
from kith.sales.services import quotes as services


def _detail(user: Any, pk: int) -> dict[str, Any]:
    return dict(s.QuoteDetailSerializer(selectors.quote_detail(user, pk)).data)


def _version(data: dict[str, Any]) -> int | None:
    value = data.pop("expected_version", None)
    return int(value) if value is not None else None


class QuoteListView(KithAPIView):
    @extend_schema(
        operation_id="quotes_list",
        summary="Quotes you may see, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=list(QuoteStatus.values)),
            OpenApiParameter("customer", str, description="Customer number"),
            OpenApiParameter("opportunity", int),
            OpenApiParameter("owner", int, description="User id"),
            *PAGING,
        ],
        responses={200: s.QuotePageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        status_value = params.get("status") or ""
        if status_value and status_value not in QuoteStatus.values:
            raise field_error("status", _("One of: %(keys)s.") % {"keys": ", ".join(QuoteStatus.values)})
        opportunity = whole(request, "opportunity", 0, 0, 2**62) or None
        owner = whole(request, "owner", 0, 0, 2**62) or None
        rows = selectors.quote_list(
            user=request.user,
            status=status_value,
            customer_number=params.get("customer") or "",
            opportunity=opportunity,
            owner=owner,
        )
        return page_of(request, rows, s.QuoteSerializer)

    @extend_schema(
        operation_id="quotes_create",
        summary="Start a draft quote, its lines in the same request",
        request=s.QuoteInputSerializer,
        responses={201: s.QuoteDetailSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.QuoteInputSerializer, request.data)
        lines = data.pop("lines", None)
        number = (data.pop("customer", "") or "").strip()
        opportunity = data.pop("opportunity", None)
        if opportunity is not None:
            try:
                data["opportunity"] = selectors.opportunity_for_quote(request.user, opportunity)
            except Http404:
                raise field_error("opportunity", _("No opportunity you may see has this id.")) from None
        elif number:
            try:
                data["customer"] = customer_by_number(user=request.user, customer_number=number)
            except Http404:
                raise field_error("customer", _("No customer you may see has this number.")) from None
        else:
            raise field_error("customer", _("Give the customer's number or an opportunity."))
        quote = services.quote_create(actor=request.user, data=data, lines=lines)
        return Response(_detail(request.user, quote.pk), status=status.HTTP_201_CREATED)


class QuoteDetailView(KithAPIView):
    @extend_schema(
        operation_id="quotes_retrieve",
        responses={200: s.QuoteDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(request.user, pk))

    @extend_schema(
        operation_id="quotes_partial_update",
        summary="Change the header of a draft",
        request=s.QuoteUpdateSerializer,
        responses={200: s.QuoteDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        quote = selectors.quote_for(request.user, pk)
        data = validated(s.QuoteUpdateSerializer, request.data)
        expected = _version(data)
        services.quote_update(actor=request.user, quote=quote, data=data, expected_version=expected)
        return Response(_detail(request.user, pk))

    @extend_schema(
        operation_id="quotes_destroy", responses={204: None, **error_responses(401, 403, 404, 409)}
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.quote_delete(actor=request.user, quote=selectors.quote_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuoteLinesView(KithAPIView):
    @extend_schema(
        operation_id="quotes_lines_list",
        responses={200: results_of("QuoteLineList", s.QuoteLineSerializer), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        quote = selectors.quote_detail(request.user, pk)
        return Response({"results": [dict(s.QuoteLineSerializer(line).data) for line in quote.lines.all()]})

    @extend_schema(
        operation_id="quotes_lines_create",
        summary="Add a line to a draft (a product takes its name, unit, tax rate and the customer's price)",
        request=s.QuoteLineAddSerializer,
        responses={201: s.QuoteDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = selectors.quote_for(request.user, pk)
        data = validated(s.QuoteLineAddSerializer, request.data)
        expected = _version(data)
        services.quote_line_add(actor=request.user, quote=quote, data=data, expected_version=expected)
        return Response(_detail(request.user, pk), status=status.HTTP_201_CREATED)


class QuoteLineDetailView(KithAPIView):
    @extend_schema(
        operation_id="quotes_lines_partial_update",
        request=s.QuoteLineAddSerializer,
        responses={200: s.QuoteDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int, line: int) -> Response:
        quote = selectors.quote_for(request.user, pk)
        row = selectors.line_of(request.user, quote, line)
        data = validated(s.QuoteLineAddSerializer, request.data)
        expected = _version(data)
        services.quote_line_update(actor=request.user, line=row, data=data, expected_version=expected)
        return Response(_detail(request.user, pk))

    @extend_schema(
        operation_id="quotes_lines_destroy",
        parameters=[OpenApiParameter("expected_version", int)],
        responses={200: s.QuoteDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def delete(self, request: Request, pk: int, line: int) -> Response:
        quote = selectors.quote_for(request.user, pk)
        row = selectors.line_of(request.user, quote, line)
        raw = request.query_params.get("expected_version")
        expected = whole(request, "expected_version", 1, 1, 2**31 - 1) if raw else None
        services.quote_line_remove(actor=request.user, line=row, expected_version=expected)
        return Response(_detail(request.user, pk))


class QuoteSendView(KithAPIView):
    @extend_schema(
        operation_id="quotes_send",
        summary="Send a draft as a PDF by email (after the approval gate)",
        description=(
            "409 with code approval_required when the quote's discount or amount needs an approval of its "
            "opportunity that has not been granted (or when it has no opportunity to ask on)."
        ),
        request=s.QuoteSendSerializer,
        responses={200: s.QuoteDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = selectors.quote_detail(request.user, pk)
        data = validated(s.QuoteSendSerializer, request.data)
        services.quote_send(
            actor=request.user,
            quote=quote,
            to=data.get("to") or "",
            message=data.get("message") or "",
            expected_version=_version(data),
        )
        return Response(_detail(request.user, pk))


class QuoteAcceptView(KithAPIView):
    @extend_schema(
        operation_id="quotes_accept",
        summary="The customer accepted a sent quote (its open opportunity is won)",
        request=s.QuoteAcceptSerializer,
        responses={200: s.QuoteAcceptedSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = selectors.quote_for(request.user, pk)
        data = validated(s.QuoteAcceptSerializer, request.data)
        reason = None
        if data.get("close_reason"):
            reason = CloseReason.objects.filter(pk=data["close_reason"]).first()
            if reason is None:
                raise field_error("close_reason", _("No such reason."))
        result = services.quote_accept(
            actor=request.user, quote=quote, expected_version=_version(data), close_reason=reason
        )
        body = _detail(request.user, pk)
        body["deal_not_won"] = str(getattr(result, "deal_not_won", "") or "")
        body["deal_amount_not_updated"] = str(getattr(result, "deal_amount_not_updated", "") or "")
        body["superseded"] = list(getattr(result, "superseded", []))
        return Response(body)


class QuoteRejectView(KithAPIView):
    @extend_schema(
        operation_id="quotes_reject",
        request=s.QuoteVersionSerializer,
        responses={200: s.QuoteDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = selectors.quote_for(request.user, pk)
        data = validated(s.QuoteVersionSerializer, request.data)
        services.quote_reject(actor=request.user, quote=quote, expected_version=_version(data))
        return Response(_detail(request.user, pk))


class QuoteReviseView(KithAPIView):
    @extend_schema(
        operation_id="quotes_revise",
        summary="A new draft revision of a sent or rejected quote (the old one is superseded)",
        request=s.QuoteVersionSerializer,
        responses={201: s.QuoteDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = selectors.quote_for(request.user, pk)
        data = validated(s.QuoteVersionSerializer, request.data)
        new: Quote = services.quote_revise(actor=request.user, quote=quote, expected_version=_version(data))
        return Response(_detail(request.user, new.pk), status=status.HTTP_201_CREATED)


class QuotePdfView(KithAPIView):
    @extend_schema(
        operation_id="quotes_pdf",
        summary="The quote as a PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        quote = selectors.quote_detail(request.user, pk)
        response = HttpResponse(quote_pdf.render_quote_pdf(quote), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{services.pdf_filename(quote)}"'
        return response
