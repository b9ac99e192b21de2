"""Read-only admin pages for the audit trail: nobody adds, changes or deletes entries here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from kith.audit.models import AccessLog, AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "seq",
        "timestamp",
        "actor_label",
        "source",
        "action",
        "object_type",
        "object_id",
        "object_repr",
    )
    list_filter = ("action", "source")
    search_fields = ("object_id", "actor_label")


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "username", "kind", "source", "customer_count", "query", "result_count")
    list_filter = ("kind",)
