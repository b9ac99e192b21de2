"""REST API of data-quality upkeep (``/api/v1/data-quality/``): the report and score over the customers
one sees, the rules (administrators), and bulk actions on the customers breaking a rule (a job)."""

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
from kith.parties.models import DataQualityRule
from kith.parties.services import quality
from kith.security.rules import EDIT, require_permission


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=list(quality.KINDS))
    params = serializers.DictField(
        required=False,
        help_text=gettext_lazy('{"field": ...} for missing_field, {"years": N} for no_activity, '
                               '{"key": ...} for missing_custom; nothing for the others.'),
    )  # fmt: skip
    is_active = serializers.BooleanField(required=False, default=True)
    position = serializers.IntegerField(required=False, min_value=0, default=0)


class RuleReportSerializer(serializers.Serializer):
    rule = RuleSerializer()
    kind_label = serializers.CharField()
    violations = serializers.IntegerField()
    sample = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Customer numbers."))


def _rule(rule: DataQualityRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "params": rule.params or {},
        "is_active": rule.is_active,
        "position": rule.position,
    }


def _rule_for(pk: int) -> DataQualityRule:
    rule = DataQualityRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404
    return rule


class QualityReportView(KithAPIView):
    @extend_schema(
        operation_id="data_quality_report",
        summary="The data-quality score and, per active rule, how many of your customers break it",
        responses={
            200: inline_serializer(
                "DataQualityReport",
                {
                    "score": serializers.IntegerField(
                        help_text=gettext_lazy("0-100: the share of checks passed.")
                    ),
                    "customers": serializers.IntegerField(),
                    "rules": RuleReportSerializer(many=True),
                },
            ),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        require_permission(request.user, "customer", EDIT)  # as the report page
        rows = quality.report(request.user)
        return Response(
            {
                "score": quality.quality_score(request.user, rows),
                "customers": quality.checked_customers(request.user).count(),
                "rules": [
                    {
                        "rule": _rule(r.rule),
                        "kind_label": r.label,
                        "violations": r.count,
                        "sample": [c.customer_number for c in r.customers],
                    }
                    for r in rows
                ],
            }
        )


class RuleListView(KithAPIView):
    @extend_schema(
        operation_id="data_quality_rules_list",
        responses={200: RuleSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        require_permission(request.user, "customer", EDIT)
        return Response([_rule(r) for r in DataQualityRule.objects.all()])

    @extend_schema(
        operation_id="data_quality_rules_create",
        summary="Add a rule (administrators)",
        request=RuleSerializer,
        responses={201: RuleSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(RuleSerializer, request.data)
        return Response(
            _rule(quality.rule_create(actor=request.user, data=data)), status=status.HTTP_201_CREATED
        )


class RuleDetailView(KithAPIView):
    @extend_schema(
        operation_id="data_quality_rules_retrieve",
        responses={200: RuleSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        require_permission(request.user, "customer", EDIT)
        return Response(_rule(_rule_for(pk)))

    @extend_schema(
        operation_id="data_quality_rules_update",
        summary="Change a rule (administrators); only the fields sent change",
        request=RuleSerializer(partial=True),
        responses={200: RuleSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        rule = _rule_for(pk)
        data = validated(RuleSerializer, request.data, partial=True)
        return Response(_rule(quality.rule_update(actor=request.user, rule=rule, data=data)))

    @extend_schema(
        operation_id="data_quality_rules_delete",
        summary="Delete a rule (administrators)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        quality.rule_delete(actor=request.user, rule=_rule_for(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BulkRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(quality.ACTIONS))
    value = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("The account manager's user id (assign_owner) or the tag (add_tag)."),
    )


class RuleBulkView(KithAPIView):
    @extend_schema(
        operation_id="data_quality_rules_bulk",
        summary="Apply an action to every customer you see that breaks the rule, as a background job",
        request=BulkRequestSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        rule = _rule_for(pk)
        data = validated(BulkRequestSerializer, request.data)
        job = quality.start_bulk(
            actor=request.user, rule=rule, action=data["action"], value=data.get("value")
        )
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )
