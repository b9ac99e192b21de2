from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.webhooks.choices import DeliveryStatus


def _utc() -> serializers.DateTimeField:
    return serializers.DateTimeField(default_timezone=None)


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField(), help_text=_('"*" is every event.'))
    owner = serializers.CharField(
        source="owner.username", help_text=_("The account whose visibility and masking the webhook has.")
    )
    active = serializers.BooleanField()
    previous_secret_until = serializers.DateTimeField(
        source="previous_secret_accepted_until",
        allow_null=True,
        help_text=_("After a new signing secret: until when events are also signed with the previous one."),
    )
    consecutive_failures = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    last_delivery_at = serializers.DateTimeField(allow_null=True)
    last_delivery_status = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text=_("The signing secret; shown only in this answer."))


class WebhookInputSerializer(StrictSerializer):
    # blanks reach the service, which checks every field and answers with all the errors at once
    name = serializers.CharField(max_length=100, allow_blank=True)
    url = serializers.CharField(max_length=500, allow_blank=True)
    event_types = serializers.ListField(child=serializers.CharField(max_length=60), allow_empty=True)
    owner = serializers.CharField(
        required=False,
        help_text=_("User name of the account the webhook sees as (default: you; others: superusers only)."),
    )


class WebhookUpdateSerializer(WebhookInputSerializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    event_types = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid", help_text=_("The Kith-Delivery header."))
    event_id = serializers.UUIDField(help_text=_('The body\'s "id": the same for a redelivery.'))
    event_type = serializers.CharField()
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    changed = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_response_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class DeliveryPageSerializer(serializers.Serializer):
    results = DeliverySerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class EventTypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
