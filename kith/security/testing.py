"""Helpers for tests: users with given roles and places in the manager chain."""

from __future__ import annotations

from typing import Any


def make_user(username: str, *roles: str, manager: Any = None, **fields: Any) -> Any:
    """A user holding exactly ``roles`` (role codes), optionally reporting to ``manager``."""
    from django.contrib.auth import get_user_model

    from kith.security import services
    from kith.security.models import Role

    fields.setdefault("password", "a-long-Passw0rd!")
    fields.setdefault("email", f"{username}@example.com")
    user = get_user_model().objects.create_user(username=username, **fields)
    services.set_roles(user, Role.objects.filter(code__in=roles))
    if manager is not None:
        services.set_manager(user, manager)
    user.refresh_from_db()
    return user


def with_clearance(user: Any) -> Any:
    """Let ``user`` see sensitive fields unmasked (for tests of other behaviour that read or change them):
    adds a role with clearance and no permissions, so their permissions stay as they were."""
    from kith.security import services
    from kith.security.models import Role

    role, _created = Role.objects.get_or_create(
        code="test-clearance", defaults={"name": "Test clearance", "sensitive_clearance": True}
    )
    user.roles.add(role)
    services.changed()
    services._forget(user)
    if hasattr(user, "_kith_masking"):
        del user._kith_masking
    return user
