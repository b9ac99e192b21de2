"""Read-only admin pages for the audit trail: nobody adds, changes or deletes entries here."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from kith.audit.models import AccessLog, AuditEntry
from kith.security.masking import mask_audit_entries


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
    # the stored changes hold encrypted values as tokens: the page shows them opened, and masked for the
    # viewer as the audit pages mask them (``mask_audit_entries``), never the raw column
    exclude = ("changes",)
    readonly_fields = ("shown_changes",)

    def get_fields(self, request: Any, obj: Any = None) -> list[Any]:
        """The shown changes where the raw column would be (before the request id)."""
        fields = [f for f in super().get_fields(request, obj) if f != "shown_changes"]
        at = fields.index("request_id") if "request_id" in fields else len(fields)
        return [*fields[:at], "shown_changes", *fields[at:]]

    def get_object(self, request: Any, object_id: str, from_field: Any = None) -> AuditEntry | None:
        entry = super().get_object(request, object_id, from_field)
        if entry is not None:  # a display-only attribute, for this request's user (never saved)
            (shown,) = mask_audit_entries(request.user, [entry])
            entry._shown_changes = shown.changes  # type: ignore[attr-defined]
        return entry

    @admin.display(description=_("changes"))
    def shown_changes(self, obj: AuditEntry) -> SafeString | str:
        if not hasattr(obj, "_shown_changes"):
            return "—"  # not loaded for a viewer: never the raw column
        text = json.dumps(obj._shown_changes, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html('<pre class="kith-audit-changes">{}</pre>', text)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "username", "kind", "source", "customer_count", "query", "result_count")
    list_filter = ("kind",)
