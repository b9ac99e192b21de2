"""REST API of privacy tooling: consents, the data-subject export and erasure of one customer; finding a
data subject by email or phone, and the export and erasure of a person known only as a lead."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, validated
from kith.parties.selectors.customers import customer_by_number
from kith.privacy import selectors
from kith.privacy.api import serializers as s
from kith.privacy.selectors import lookup
from kith.privacy.services import consents as consent_services
from kith.privacy.services import erasure as erasure_services
from kith.privacy.services.export import export_bundle
from kith.privacy.views import zip_response
from kith.security import rules

HISTORY_LIMIT = 500


class CustomerConsentsView(KithAPIView):
    @extend_schema(
        operation_id="customers_consents_list",
        summary="Consents in force and the history (newest first, at most 500)",
        responses={200: s.ConsentListSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        customer = customer_by_number(user=request.user, customer_number=number)
        rules.require_permission(request.user, "privacy", rules.VIEW)
        return Response(
            {
                "current": s.ConsentSerializer(selectors.current_consents(customer), many=True).data,
                "history": s.ConsentSerializer(
                    selectors.consent_history(customer, limit=HISTORY_LIMIT), many=True
                ).data,
            }
        )

    @extend_schema(
        operation_id="customers_consents_create",
        summary="Record a consent given or withdrawn (earlier records are kept)",
        request=s.ConsentCreateSerializer,
        responses={201: s.ConsentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, number: str) -> Response:
        customer = customer_by_number(user=request.user, customer_number=number)
        data = validated(s.ConsentCreateSerializer, request.data)
        record = consent_services.consent_record(
            actor=request.user,
            customer=customer,
            purpose=data["purpose"],
            channel=data["channel"],
            status=data["status"],
            occurred_at=data.get("occurred_at"),
            evidence=data.get("evidence", ""),
        )
        return Response(s.ConsentSerializer(record).data, status=status.HTTP_201_CREATED)


class CustomerExportView(KithAPIView):
    @extend_schema(
        operation_id="customers_privacy_export",
        summary="Everything Kith holds about the customer: a ZIP with subject.json and one CSV per section",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        customer = customer_by_number(user=request.user, customer_number=number)
        bundle = export_bundle(actor=request.user, customer=customer)
        return zip_response(bundle)


class CustomerErasureView(KithAPIView):
    @extend_schema(
        operation_id="customers_privacy_erasure",
        summary="Whether and when the customer was erased",
        responses={200: s.ErasureSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        customer = customer_by_number(user=request.user, customer_number=number)
        rules.require_permission(request.user, "privacy", rules.VIEW)
        erasure = selectors.erasure_of(customer)
        if erasure is None:
            return Response({"code": "not_erased", "detail": "Not erased.", "errors": {}}, status=404)
        return Response(s.ErasureSerializer(erasure).data)

    @extend_schema(
        operation_id="customers_privacy_erase",
        summary="Erase the customer's identity (irreversible); business records stay",
        request=s.ErasureRequestSerializer,
        responses={201: s.ErasureSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, number: str) -> Response:
        customer = customer_by_number(user=request.user, customer_number=number)
        rules.require_permission(request.user, "privacy", rules.ADMINISTER)
        data = validated(s.ErasureRequestSerializer, request.data)
        erasure = erasure_services.customer_erase(
            actor=request.user, customer=customer, reason=data["reason"], confirmation=data["confirmation"]
        )
        return Response(s.ErasureSerializer(erasure).data, status=status.HTTP_201_CREATED)


class SubjectSearchView(KithAPIView):
    @extend_schema(
        operation_id="privacy_subjects_find",
        summary="Customers and leads known by an email address or phone number (a data subject's request)",
        parameters=[OpenApiParameter("q", str, required=True, description="Email address or phone number")],
        responses={200: s.SubjectMatchesSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        if not (
            rules.has_permission(request.user, "privacy", rules.EXPORT)
            or rules.has_permission(request.user, "privacy", rules.ADMINISTER)
        ):
            raise PermissionDenied
        query = str(request.query_params.get("q") or "")
        if not query.strip():
            raise field_error("q", _("Give an email address or a phone number."))
        matches = lookup.find_subjects(user=request.user, query=query)
        lookup.log_lookup(request.user, matches)
        return Response(s.SubjectMatchesSerializer(matches).data)


class LeadExportView(KithAPIView):
    @extend_schema(
        operation_id="privacy_lead_export",
        summary="Everything Kith holds about a person known only as a lead: a ZIP like a customer's",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        lead = lookup.lead_for(user=request.user, lead_id=pk)
        return zip_response(export_bundle(actor=request.user, lead=lead))


class LeadErasureView(KithAPIView):
    @extend_schema(
        operation_id="privacy_lead_erasure",
        summary="Whether and when the lead's person was erased",
        responses={200: s.LeadErasureSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        lead = lookup.lead_for(user=request.user, lead_id=pk)
        rules.require_permission(request.user, "privacy", rules.VIEW)
        erasure = selectors.erasure_of_lead(lead)
        if erasure is None:
            return Response({"code": "not_erased", "detail": "Not erased.", "errors": {}}, status=404)
        return Response(s.LeadErasureSerializer(erasure).data)

    @extend_schema(
        operation_id="privacy_lead_erase",
        summary="Erase the identity of a person known only as a lead (irreversible); with its email/phone twins",
        request=s.LeadErasureRequestSerializer,
        responses={201: s.LeadErasureSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = lookup.lead_for(user=request.user, lead_id=pk)
        rules.require_permission(request.user, "privacy", rules.ADMINISTER)
        data = validated(s.LeadErasureRequestSerializer, request.data)
        erasure = erasure_services.lead_erase(
            actor=request.user, lead=lead, reason=data["reason"], confirmation=data["confirmation"]
        )
        return Response(s.LeadErasureSerializer(erasure).data, status=status.HTTP_201_CREATED)
