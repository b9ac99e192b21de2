"""Shapes of the privacy API: strict input, documented output."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.privacy.choices import ConsentChannel, ConsentStatus
from kith.privacy.models import ConsentRecord


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    purpose = serializers.CharField(source="purpose.code")
    purpose_name = serializers.CharField(source="purpose.name")
    channel = serializers.ChoiceField(choices=ConsentChannel.choices)
    status = serializers.ChoiceField(choices=ConsentStatus.choices)
    occurred_at = serializers.DateTimeField()
    evidence = serializers.CharField()
    recorded_by = serializers.SerializerMethodField()
    recorded_at = serializers.DateTimeField()
    in_force = serializers.BooleanField(source="is_current")

    def get_recorded_by(self, record: ConsentRecord) -> str | None:
        return record.recorded_by.get_username() if record.recorded_by else None


class ConsentListSerializer(serializers.Serializer):
    current = ConsentSerializer(many=True)
    history = ConsentSerializer(many=True)


class ConsentCreateSerializer(StrictSerializer):
    purpose = serializers.CharField(max_length=40, help_text=_("The purpose's code, e.g. marketing_email."))
    channel = serializers.ChoiceField(choices=ConsentChannel.choices)
    status = serializers.ChoiceField(choices=ConsentStatus.choices)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, help_text=_("Default: now."))
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=True)


class ErasureRequestSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)
    confirmation = serializers.CharField(max_length=60, help_text=_("The customer number, typed again."))


class ErasureSerializer(serializers.Serializer):
    customer_number = serializers.CharField(source="customer.customer_number")
    erased_at = serializers.DateTimeField()
    erased_by = serializers.SerializerMethodField()
    reason = serializers.CharField()
    via = serializers.CharField()
    summary = serializers.DictField(child=serializers.IntegerField())

    def get_erased_by(self, erasure: Any) -> str | None:
        return erasure.erased_by.get_username() if erasure.erased_by else None


class LeadErasureRequestSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)
    confirmation = serializers.CharField(max_length=20, help_text=_("The lead's id, typed again."))


class LeadErasureSerializer(serializers.Serializer):
    lead = serializers.IntegerField(source="lead_id")
    erased_at = serializers.DateTimeField()
    erased_by = serializers.SerializerMethodField()
    reason = serializers.CharField()
    via = serializers.CharField()
    summary = serializers.DictField(child=serializers.IntegerField())

    def get_erased_by(self, erasure: Any) -> str | None:
        return erasure.erased_by.get_username() if erasure.erased_by else None


class SubjectCustomerSerializer(serializers.Serializer):
    customer_number = serializers.CharField()
    display_name = serializers.CharField()


class SubjectLeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")
    email = serializers.CharField()
    phone = serializers.CharField()
    status = serializers.CharField()
    converted_customer_number = serializers.SerializerMethodField()

    def get_converted_customer_number(self, lead: Any) -> str | None:
        return lead.converted_customer.customer_number if lead.converted_customer_id else None


class SubjectMatchesSerializer(serializers.Serializer):
    query = serializers.CharField()
    kind = serializers.ChoiceField(choices=[("email", "email"), ("phone", "phone")])
    customers = SubjectCustomerSerializer(many=True)
    leads = SubjectLeadSerializer(many=True)
