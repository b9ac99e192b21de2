"""Template helpers of the privacy pages: whether to show the privacy administration link."""

from __future__ import annotations

from typing import Any

from django import template

from kith.security import rules

register = template.Library()


@register.filter
def can_administer_privacy(user: Any) -> bool:
    return rules.has_permission(user, "privacy", rules.ADMINISTER)
