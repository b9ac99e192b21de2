"""Shapes of the lead API (documentation and input checks; the services check the substance)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.sales.choices import AssignmentMethod, LeadSource, LeadStatus


class LeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    company = serializers.CharField()
    title = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField(help_text=_("E.164."))
    phone_raw = serializers.CharField(help_text=_("As given."))
    territory = serializers.CharField()
    category = serializers.IntegerField(source="category_id", allow_null=True)
    source = serializers.ChoiceField(choices=LeadSource.choices)  # type: ignore[assignment]
    status = serializers.ChoiceField(choices=LeadStatus.choices)  # type: ignore[assignment]
    description = serializers.CharField()
    estimated_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    web_form = serializers.IntegerField(source="web_form_id", allow_null=True)
    disqualified_reason = serializers.CharField()
    converted_customer = serializers.CharField(
        source="converted_customer.customer_number",
        allow_null=True,
        default=None,
        help_text=_("Customer number."),
    )
    converted_opportunity = serializers.IntegerField(source="converted_opportunity_id", allow_null=True)
    converted_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField(
        help_text=_("Send it back as expected_version to detect concurrent edits.")
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LeadPageSerializer(serializers.Serializer):
    results = LeadSerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


class LeadInputSerializer(StrictSerializer):
    given_name = serializers.CharField(max_length=400, allow_blank=True, required=False)
    family_name = serializers.CharField(max_length=400, allow_blank=True, required=False)
    company = serializers.CharField(max_length=800, allow_blank=True, required=False)
    title = serializers.CharField(max_length=400, allow_blank=True, required=False)
    email = serializers.CharField(max_length=400, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=100, allow_blank=True, required=False)
    territory = serializers.CharField(max_length=200, allow_blank=True, required=False)
    category = serializers.IntegerField(allow_null=True, required=False, min_value=1, max_value=2**62)
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=40, allow_blank=True, required=False, help_text=_("Default: api.")
    )
    description = serializers.CharField(allow_blank=True, required=False)
    estimated_value = serializers.CharField(max_length=40, allow_blank=True, allow_null=True, required=False)
    currency = serializers.CharField(max_length=10, allow_blank=True, required=False)
    owner = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        max_value=2**62,
        help_text=_("A user id; empty: the assignment rules, else you."),
    )


class LeadUpdateSerializer(LeadInputSerializer):
    status = serializers.ChoiceField(
        choices=[c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED],
        required=False,
        help_text=_(
            "new, contacted, qualified or unqualified (with disqualified_reason); convert with /convert/."
        ),
    )
    disqualified_reason = serializers.CharField(max_length=600, allow_blank=True, required=False)
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The version you loaded; another save since then is a 409."),
    )


class LeadConvertInputSerializer(StrictSerializer):
    customer = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("Customer number of an existing customer to use; empty: create one from the lead."),
    )
    create_opportunity = serializers.BooleanField(required=False, default=True)
    opportunity = serializers.DictField(
        required=False,
        help_text=_(
            "Opportunity fields: name, amount, currency, discount_percent, pipeline, stage, owner, "
            "expected_close_date, next_step, competitors, description."
        ),
    )


class LeadCandidateSerializer(serializers.Serializer):
    customer_number = serializers.CharField()
    display_name = serializers.CharField()
    kind = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    score = serializers.IntegerField()


class LeadConversionSerializer(serializers.Serializer):
    lead = LeadSerializer()
    customer = serializers.CharField(help_text=_("Customer number."))
    customer_created = serializers.BooleanField()
    opportunity = serializers.IntegerField(allow_null=True)


class LeadRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    is_active = serializers.BooleanField()
    territory = serializers.CharField()
    category = serializers.IntegerField(source="category_id", allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    method = serializers.ChoiceField(choices=AssignmentMethod.choices)  # type: ignore[assignment]
    users = serializers.ListField(child=serializers.IntegerField())
    version = serializers.IntegerField()


class LeadRuleInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=400, allow_blank=True, required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    is_active = serializers.BooleanField(required=False)
    territory = serializers.CharField(max_length=200, allow_blank=True, required=False)
    category = serializers.IntegerField(allow_null=True, required=False, min_value=1, max_value=2**62)
    source = serializers.CharField(max_length=40, allow_blank=True, required=False)  # type: ignore[assignment]
    method = serializers.CharField(max_length=40, required=False)
    users = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), required=False, max_length=500
    )
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class FollowUpTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id", allow_null=True)
    opportunity = serializers.IntegerField(source="opportunity_id", allow_null=True)
    title = serializers.CharField()
    due_date = serializers.DateField()
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


class FollowUpTaskInputSerializer(StrictSerializer):
    lead = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    opportunity = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    title = serializers.CharField(max_length=400, allow_blank=True, required=False)
    due_date = serializers.CharField(max_length=40, allow_blank=True, required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
