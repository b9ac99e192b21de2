"""Rendering an entry's changes as rows: field label, before, after."""

from __future__ import annotations

from typing import Any

from django import template
from django.apps import apps
from django.utils.translation import gettext as _

from kith.audit.choices import CHANGED

register = template.Library()


@register.filter
def can_view_audit(user: Any) -> bool:
    """Whether the navigation shows the security dashboard."""
    from kith.security.rules import VIEW, has_permission

    return has_permission(user, "audit", VIEW)


def _label(object_type: str, name: str) -> str:
    try:
        model = apps.get_model(object_type)
        return str(model._meta.get_field(name).verbose_name)
    except (LookupError, ValueError, AttributeError, Exception):
        return name.replace("_", " ")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


@register.filter
def change_rows(entry: Any) -> list[dict[str, str]]:
    rows = []
    for name, change in sorted((entry.changes or {}).items()):
        if name.startswith("_"):
            continue
        label = _label(entry.object_type, name)
        if change == CHANGED:
            rows.append({"field": name, "label": label, "before": "", "after": _("changed (not shown)")})
        elif isinstance(change, list) and len(change) == 2:
            rows.append(
                {"field": name, "label": label, "before": _text(change[0]), "after": _text(change[1])}
            )
        elif isinstance(change, dict) and ("added" in change or "removed" in change):
            added = ", ".join(str(i.get("repr") or i.get("id")) for i in change.get("added", []))
            removed = ", ".join(str(i.get("repr") or i.get("id")) for i in change.get("removed", []))
            rows.append(
                {
                    "field": name,
                    "label": label,
                    "before": _("removed: %(items)s") % {"items": removed} if removed else "",
                    "after": _("added: %(items)s") % {"items": added} if added else "",
                }
            )
        else:
            rows.append({"field": name, "label": label, "before": "", "after": _text(change)})
    return rows


@register.filter
def restored_from(entry: Any) -> Any:
    return (entry.changes or {}).get("_restored_from")
