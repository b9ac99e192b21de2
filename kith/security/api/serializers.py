"""Shapes of the access-request API."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.security.access_requests import MAX_COMMENT, MAX_PURPOSE
from kith.security.models import AccessRequestStatus


class AccessRequestInputSerializer(StrictSerializer):
    purpose = serializers.CharField(
        max_length=MAX_PURPOSE, help_text=_("Why the data is needed (10+ characters).")
    )
    fields = serializers.ListField(  # type: ignore[assignment]  # the metaclass collects it
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text=_("Masked fields wanted (e.g. id_document_number, phones, custom.<key>); empty: all."),
    )


class DecisionInputSerializer(StrictSerializer):
    comment = serializers.CharField(max_length=MAX_COMMENT, required=False, allow_blank=True)


class _UserRef(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class AccessRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object_type = serializers.CharField()
    object_key = serializers.CharField(help_text=_("The record's key: the customer number."))
    object_label = serializers.CharField()
    requester = _UserRef()
    purpose = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    status = serializers.ChoiceField(choices=AccessRequestStatus.choices)
    created_at = serializers.DateTimeField(default_timezone=dt.UTC)
    approver = _UserRef(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True, default_timezone=dt.UTC)
    decision_comment = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True, default_timezone=dt.UTC)


class AccessRequestListSerializer(serializers.Serializer):
    to_decide = AccessRequestSerializer(many=True)
    mine = AccessRequestSerializer(many=True)
