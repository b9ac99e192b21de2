"""Template filters of the security app: which of its pages the navigation offers."""

from __future__ import annotations

from typing import Any

from django import template

from kith.security.rules import VIEW, has_permission

register = template.Library()


@register.filter
def can_view_encryption_keys(user: Any) -> bool:
    """Whether Settings links to Encryption keys (the page's own check: ("security", "view"))."""
    return has_permission(user, "security", VIEW)
