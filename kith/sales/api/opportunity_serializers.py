"""Serializers of the opportunity API: deals, pipelines with stages, approvals (inputs are loose strings;
the services check every field and answer with all the errors at once)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)


def _percent(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=True, **kwargs)


class StageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    probability = serializers.IntegerField()
    kind = serializers.CharField(help_text=_("open, won or lost."))
    requires_approval = serializers.BooleanField()


class PipelineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_default = serializers.BooleanField()
    is_active = serializers.BooleanField()
    stages = StageSerializer(many=True, source="stages_shown")


class CloseReasonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=_("open, won or lost."))
    name = serializers.CharField()
    is_active = serializers.BooleanField()


class OpportunitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    customer = serializers.CharField(source="customer.customer_number", help_text=_("Customer number."))
    customer_name = serializers.CharField(source="customer.display_name")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    pipeline = serializers.IntegerField(source="pipeline_id")
    stage = serializers.IntegerField(source="stage_id")
    stage_name = serializers.CharField(source="stage.name")
    status = serializers.CharField(help_text=_("open, won or lost (the kind of the stage)."))
    amount = _money()
    currency = serializers.CharField(help_text=_("ISO 4217 code."))
    discount_percent = _percent()
    probability = serializers.IntegerField()
    expected_close_date = serializers.DateField(allow_null=True)
    next_step = serializers.CharField()
    competitors = serializers.CharField()
    description = serializers.CharField()
    close_reason = serializers.IntegerField(source="close_reason_id", allow_null=True)
    close_note = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    stage_entered_at = serializers.DateTimeField(allow_null=True)
    lead = serializers.IntegerField(source="lead_id", allow_null=True)
    version = serializers.IntegerField(help_text=_("Send it back as version to detect concurrent edits."))
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OpportunityPageSerializer(serializers.Serializer):
    results = OpportunitySerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


class OpportunityInputSerializer(StrictSerializer):
    customer = serializers.CharField(max_length=40, help_text=_("Customer number."))
    name = serializers.CharField(max_length=400, allow_blank=True)
    amount = serializers.CharField(max_length=40, allow_blank=True, required=False, help_text=_('"1200.50"'))
    currency = serializers.CharField(max_length=10, allow_blank=True, required=False)
    discount_percent = serializers.CharField(max_length=20, allow_blank=True, required=False)
    probability = serializers.CharField(max_length=10, allow_blank=True, required=False)
    pipeline = serializers.IntegerField(required=False, allow_null=True)
    stage = serializers.IntegerField(required=False, allow_null=True)
    owner = serializers.IntegerField(required=False, allow_null=True)
    expected_close_date = serializers.CharField(
        max_length=20, allow_blank=True, required=False, allow_null=True
    )
    next_step = serializers.CharField(max_length=400, allow_blank=True, required=False)
    competitors = serializers.CharField(max_length=600, allow_blank=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False)


class OpportunityUpdateSerializer(OpportunityInputSerializer):
    customer = serializers.CharField(max_length=40, required=False)
    name = serializers.CharField(max_length=400, allow_blank=True, required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The version you loaded; another save since then is a 409."),
    )


class MoveInputSerializer(StrictSerializer):
    stage = serializers.IntegerField()
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    close_reason = serializers.IntegerField(required=False, allow_null=True)
    close_note = serializers.CharField(max_length=300, allow_blank=True, required=False)


class ApprovalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    opportunity = serializers.IntegerField(source="opportunity_id")
    opportunity_name = serializers.CharField(source="opportunity.name")
    status = serializers.CharField(help_text=_("pending, approved, rejected, withdrawn or superseded."))
    reasons = serializers.CharField()
    amount = _money()
    currency = serializers.CharField()
    discount_percent = _percent()
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True)
    request_comment = serializers.CharField()
    approver = serializers.IntegerField(source="approver_id", allow_null=True)
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class ApprovalRequestSerializer(StrictSerializer):
    comment = serializers.CharField(max_length=500, allow_blank=True, required=False)


class ApprovalDecisionSerializer(StrictSerializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(max_length=500, allow_blank=True, required=False)
