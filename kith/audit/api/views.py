"""Audit API: the global trail (filters, cursor) and one customer's history. Read-only."""

from __future__ import annotations

from typing import Any

from django.utils.http import urlencode
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from kith.audit import selectors
from kith.audit.api.serializers import AuditEntrySerializer, AuditPageSerializer
from kith.audit.choices import Action, Source
from kith.core.api_views import ErrorSerializer, KithAPIView
from kith.parties.selectors.customers import customer_by_number
from kith.security.masking import mask_audit_entries
from kith.security.rules import VIEW, require_permission

_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
_PAGING = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="next_cursor of the previous page"),
    OpenApiParameter("limit", OpenApiTypes.INT, description="entries per page (at most 200)"),
]


def _page_body(request: Request, page: selectors.Page, query: dict[str, Any]) -> dict[str, Any]:
    next_url = None
    if page.next_cursor:
        next_url = (
            request.build_absolute_uri(request.path) + "?" + urlencode({**query, "cursor": page.next_cursor})
        )
    return {
        "results": AuditEntrySerializer(mask_audit_entries(request.user, page.entries), many=True).data,
        "next_cursor": page.next_cursor,
        "next": next_url,
    }


class AuditListView(KithAPIView):
    @extend_schema(
        operation_id="audit_list",
        description=gettext_lazy(
            "Audit entries, newest first, with field-by-field changes. Needs the permission to view the audit trail."
        ),
        parameters=[
            OpenApiParameter("actor", OpenApiTypes.STR, description="user name"),
            OpenApiParameter("action", OpenApiTypes.STR, enum=Action.values),
            OpenApiParameter(
                "object_type", OpenApiTypes.STR, description="app_label.model, e.g. parties.customer"
            ),
            OpenApiParameter("object_id", OpenApiTypes.STR),
            OpenApiParameter("source", OpenApiTypes.STR, enum=Source.values),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
            *_PAGING,
        ],
        responses={200: AuditPageSerializer, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        require_permission(request.user, "audit", VIEW)
        filters = selectors.AuditFilters.from_params(request.query_params)
        if filters.errors:
            raise exceptions.ValidationError(filters.errors)
        query = {
            **filters.as_query(),
            **({"limit": str(filters.limit)} if "limit" in request.query_params else {}),
        }
        return Response(_page_body(request, selectors.audit_entries(filters), query))


class CustomerHistoryView(KithAPIView):
    @extend_schema(
        operation_id="customers_history",
        description=gettext_lazy(
            "The customer's history: changes of the customer and of its contact points, records and "
            "relationships, newest first, field by field."
        ),
        parameters=_PAGING,
        responses={200: AuditPageSerializer, **_ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        require_permission(request.user, "customer", VIEW)
        customer = customer_by_number(user=request.user, customer_number=number)
        filters = selectors.AuditFilters.from_params(
            {k: request.query_params.get(k, "") for k in ("cursor", "limit")}
        )
        if filters.errors:
            raise exceptions.ValidationError(filters.errors)
        page = selectors.customer_history(customer.pk, cursor=filters.cursor, limit=filters.limit)
        return Response(_page_body(request, page, {}))
