"""Template helpers of the parties pages: phone formatting and the admin check for the navigation."""

from __future__ import annotations

from typing import Any

from django import template

from kith.parties.services.contact_points import format_phone
from kith.security.rules import can_administer_catalogues

register = template.Library()


@register.filter
def phone(e164: str) -> str:
    """+4930123456 → "+49 30 123456"."""
    return format_phone(e164) if e164 else ""


@register.filter
def can_administer(user: Any) -> bool:
    return can_administer_catalogues(user)


@register.filter
def can_export_customers(user: Any) -> bool:
    from kith.security.rules import EXPORT, has_permission

    return has_permission(user, "customer", EXPORT)


@register.filter
def can_import_customers(user: Any) -> bool:
    from kith.security.rules import IMPORT, has_permission

    return has_permission(user, "customer", IMPORT)


@register.filter
def can_edit_customers(user: Any) -> bool:
    from kith.security.rules import EDIT, has_permission

    return has_permission(user, "customer", EDIT)
