"""Template filters of the accounts app."""

from typing import Any

from django import template

from kith.security import rules

register = template.Library()


@register.filter
def can_manage_users(user: Any) -> bool:
    return rules.has_permission(user, "user", rules.ADMINISTER)
