"""Access-request API: ask for access to a customer's sensitive fields, list requests, approve, reject."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import ErrorSerializer, KithAPIView, validated
from kith.security import access_requests as service
from kith.security.api import serializers as s
from kith.security.models import AccessRequest

_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


def _body(row: AccessRequest) -> dict[str, Any]:
    return dict(s.AccessRequestSerializer(row).data)


class CustomerAccessRequestView(KithAPIView):
    @extend_schema(
        operation_id="customers_access_request",
        description=(
            "Ask to see this customer's masked sensitive fields for a stated purpose. The request goes to "
            "your manager, or to the data stewards when you have none; an approval grants access to this "
            "customer for KITH_ACCESS_GRANT_HOURS (24 by default)."
        ),
        request=s.AccessRequestInputSerializer,
        responses={201: s.AccessRequestSerializer, **_ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        record = service.record_type("customer").find(request.user, number)
        data = validated(s.AccessRequestInputSerializer, request.data)
        row = service.request_access(
            actor=request.user,
            object_type="customer",
            record=record,
            purpose=data["purpose"],
            fields=data.get("fields") or (),
        )
        return Response(_body(row), status=status.HTTP_201_CREATED)


class AccessRequestListView(KithAPIView):
    @extend_schema(
        operation_id="access_requests_list",
        description="Pending requests you may decide, and your own requests (newest first, at most 100 each).",
        responses={200: s.AccessRequestListSerializer, 401: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        service.expire_due()
        return Response(
            {
                "to_decide": [_body(r) for r in service.requests_to_decide(request.user)[:100]],
                "mine": [_body(r) for r in service.requests_of(request.user)[:100]],
            }
        )


class _DecisionView(KithAPIView):
    approve = True

    def post(self, request: Request, pk: int) -> Response:
        row = service.decidable(request.user, pk)
        if row is None:
            raise Http404
        data = validated(s.DecisionInputSerializer, request.data)
        decided = service.decide(
            actor=request.user, access_request=row, approve=self.approve, comment=data.get("comment") or ""
        )
        return Response(_body(decided))


class AccessRequestApproveView(_DecisionView):
    approve = True

    @extend_schema(
        operation_id="access_requests_approve",
        description="Approve: the requester sees the fields until expires_at. Only their manager (any level "
        "up) or a holder of (customer, approve); never your own request.",
        request=s.DecisionInputSerializer,
        responses={200: s.AccessRequestSerializer, 409: ErrorSerializer, **_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class AccessRequestRejectView(_DecisionView):
    approve = False

    @extend_schema(
        operation_id="access_requests_reject",
        request=s.DecisionInputSerializer,
        responses={200: s.AccessRequestSerializer, 409: ErrorSerializer, **_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)
