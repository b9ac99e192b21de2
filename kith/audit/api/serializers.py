"""Read-only shapes of the audit API."""

from __future__ import annotations

from rest_framework import serializers

from kith.audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")
    address = serializers.CharField(source="remote_addr", allow_null=True)
    object = serializers.CharField(source="object_repr")
    changes = serializers.JSONField()

    class Meta:
        model = AuditEntry
        fields = (
            "seq",
            "timestamp",
            "actor",
            "actor_id",
            "address",
            "source",
            "action",
            "object_type",
            "object_id",
            "object",
            "customer_id",
            "changes",
            "request_id",
            "prev_hash",
            "hash",
        )
        read_only_fields = fields


class AuditPageSerializer(serializers.Serializer):
    results = AuditEntrySerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.CharField(allow_null=True)
