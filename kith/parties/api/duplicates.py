"""REST API of likely duplicates and merging (``/api/v1/duplicates/``, ``/api/v1/merges/``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, validated
from kith.jobs.api.serializers import JobSerializer
from kith.parties.selectors import duplicates as selectors
from kith.parties.selectors.customers import customer_by_number
from kith.parties.services import duplicates
from kith.parties.services import merge as merging
from kith.security.rules import EDIT, require_permission

_PartySerializer = inline_serializer(
    "DuplicateParty",
    {
        "customer_number": serializers.CharField(),
        "display_name": serializers.CharField(),
        "version": serializers.IntegerField(),
    },
)


class DuplicatePairSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    reason_labels = serializers.ListField(child=serializers.CharField())
    first = _PartySerializer
    second = _PartySerializer


def _party(customer: Any) -> dict[str, Any]:
    return {
        "customer_number": customer.customer_number,
        "display_name": customer.display_name,
        "version": customer.version,
    }


class DuplicateListView(KithAPIView):
    @extend_schema(
        operation_id="duplicates_list",
        summary="Open pairs of likely duplicate customers (both visible to you), best score first",
        responses={
            200: inline_serializer(
                "DuplicatePage",
                {
                    "results": DuplicatePairSerializer(many=True),
                    "next": serializers.CharField(allow_null=True),
                },
            ),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        require_permission(request.user, "customer", EDIT)
        pairs, more = selectors.open_pairs(request.user, after=str(request.query_params.get("after", "")))
        return Response(
            {
                "results": [
                    {
                        "id": p.candidate.pk,
                        "score": p.candidate.score,
                        "reasons": p.candidate.reasons,
                        "reason_labels": p.reasons,
                        "first": _party(p.first),
                        "second": _party(p.second),
                    }
                    for p in pairs
                ],
                "next": more or None,
            }
        )


class DuplicateDismissView(KithAPIView):
    @extend_schema(
        operation_id="duplicates_dismiss",
        summary="Mark a pair as two different customers (not proposed again)",
        request=None,
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        candidate = selectors.pair_for(request.user, pk)
        if candidate is None:
            raise Http404
        duplicates.dismiss(actor=request.user, candidate=candidate)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DuplicateScanView(KithAPIView):
    @extend_schema(
        operation_id="duplicates_scan",
        summary="Look through every customer for duplicates, as a background job",
        request=None,
        responses={202: JobSerializer, **error_responses(401, 403)},
    )
    def post(self, request: Request) -> Response:
        job = duplicates.start_scan_all(actor=request.user, source="api")
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


class MergeRequestSerializer(serializers.Serializer):
    keep = serializers.CharField(
        max_length=40, help_text=gettext_lazy("The number of the customer that stays.")
    )
    merge = serializers.CharField(
        max_length=40, help_text=gettext_lazy("The number of the customer merged into it.")
    )
    keep_version = serializers.IntegerField(
        required=False, help_text=gettext_lazy("The version you saw (409 when it changed).")
    )
    merge_version = serializers.IntegerField(required=False)
    choices = serializers.DictField(
        child=serializers.ChoiceField(choices=[merging.SURVIVOR, merging.MERGED]),
        required=False,
        help_text=gettext_lazy('Per field (custom.<key> for custom fields): "survivor" or "merged".'),
    )


class MergeView(KithAPIView):
    @extend_schema(
        operation_id="customers_merge",
        summary="Merge one customer into another",
        description=gettext_lazy(
            "Every business record, relationship, contact point, tag, role and custom value moves to the customer "
            "that stays; the merged number keeps resolving to it. Audited as one merge."
        ),
        request=MergeRequestSerializer,
        responses={200: _PartySerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validated(MergeRequestSerializer, request.data)
        keep = customer_by_number(user=request.user, customer_number=data["keep"])
        gone = customer_by_number(user=request.user, customer_number=data["merge"])
        kept = merging.customer_merge(
            actor=request.user,
            survivor=keep,
            merged=gone,
            survivor_version=data.get("keep_version"),
            merged_version=data.get("merge_version"),
            choices=data.get("choices") or {},
        )
        return Response(_party(kept))
