"""REST API of contracts and their documents (token area ``sales``)."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, validated
from kith.sales.api import order_serializers as s
from kith.sales.api.params import PAGING, page_of, whole
from kith.sales.models import ContractStatus
from kith.sales.selectors import contracts as selectors
from kith.sales.services import contracts as services
from kith.sales.views.contracts import document_response


class ContractListView(KithAPIView):
    @extend_schema(
        operation_id="contracts_list",
        summary="Contracts you may see, renewals due first",
        parameters=[
            OpenApiParameter("status", str, enum=ContractStatus.values),
            OpenApiParameter("customer", str, description="Customer number"),
            OpenApiParameter("renewing_within", int, description="Active, renewing within this many days"),
            *PAGING,
        ],
        responses={200: s.ContractPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if params.get("status") and params["status"] not in ContractStatus.values:
            raise field_error(
                "status", _("Use one of: %(values)s.") % {"values": ", ".join(ContractStatus.values)}
            )
        within = whole(request, "renewing_within", 0, 0, 3650) if params.get("renewing_within") else None
        rows = selectors.contract_list(
            user=request.user,
            status=params.get("status") or "",
            customer_number=params.get("customer") or "",
            renewing_within=within,
        )
        return page_of(request, rows, s.ContractSerializer)

    @extend_schema(
        operation_id="contracts_create",
        request=s.ContractInputSerializer,
        responses={201: s.ContractSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.ContractInputSerializer, request.data)
        data.pop("version", None)
        contract = services.contract_create(actor=request.user, data=data)
        return Response(s.ContractSerializer(contract).data, status=status.HTTP_201_CREATED)


class ContractDetailView(KithAPIView):
    @extend_schema(
        operation_id="contracts_retrieve",
        responses={200: s.ContractSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ContractSerializer(selectors.contract_for(request.user, pk)).data)

    @extend_schema(
        operation_id="contracts_partial_update",
        request=s.ContractInputSerializer,
        responses={200: s.ContractSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        contract = selectors.contract_for(request.user, pk, write=True)
        data = validated(s.ContractInputSerializer, request.data)
        version = data.pop("version", None)
        if "customer" in data:
            raise field_error("customer", _("A contract stays with its customer."))
        services.contract_update(actor=request.user, contract=contract, data=data, expected_version=version)
        return Response(s.ContractSerializer(contract).data)

    @extend_schema(
        operation_id="contracts_destroy", responses={204: None, **error_responses(401, 403, 404, 409)}
    )
    def delete(self, request: Request, pk: int) -> Response:
        contract = selectors.contract_for(request.user, pk, write=True)
        services.contract_delete(actor=request.user, contract=contract)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContractDocumentView(KithAPIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="contracts_document_retrieve",
        summary="Download the contract's document",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        return document_response(selectors.contract_for(request.user, pk))

    @extend_schema(
        operation_id="contracts_document_upload",
        summary="Attach (or replace) the document (multipart/form-data)",
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={200: s.ContractSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        contract = selectors.contract_for(request.user, pk, write=True)
        upload = request.FILES.get("document")
        if upload is None:
            raise field_error("document", _("Attach the file as document."))
        raw = str(request.data.get("version") or "")
        services.contract_update(
            actor=request.user,
            contract=contract,
            data={},
            document=upload,
            expected_version=int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None,
        )
        return Response(s.ContractSerializer(contract).data)
