"""Who may do what: the one place every view, API endpoint, job and service asks.

Object types are registered once (``register_object_type``) by the app that owns them; a permission is
(object type, action). ``has_permission`` answers for a user, ``require_permission`` raises
``PermissionDenied`` (403 in the UI and the API). Roles carry the permission matrix (``kith.security``'s
``Role``); superusers hold every permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

VIEW, CREATE, EDIT, DELETE, EXPORT, IMPORT, APPROVE, ADMINISTER = (
    "view",
    "create",
    "edit",
    "delete",
    "export",
    "import",
    "approve",
    "administer",
)
ACTIONS: dict[str, Promise] = {
    VIEW: _("view"),
    CREATE: _("create"),
    EDIT: _("edit"),
    DELETE: _("delete"),
    EXPORT: _("export"),
    IMPORT: _("import"),
    APPROVE: _("approve"),
    ADMINISTER: _("administer"),
}


@dataclass(frozen=True)
class ObjectType:
    key: str
    label: Promise | str
    actions: tuple[str, ...] = tuple(ACTIONS)
    # the model whose rows are owned and shared (visibility applies); "" for settings-like types
    model: str = ""
    description: Promise | str = ""


_object_types: dict[str, ObjectType] = {}


def register_object_type(
    key: str,
    label: Promise | str,
    *,
    actions: tuple[str, ...] = tuple(ACTIONS),
    model: str = "",
    description: Promise | str = "",
) -> ObjectType:
    """Declare an object type for the permission matrix (call from the owning app's ``AppConfig.ready``)."""
    unknown = set(actions) - set(ACTIONS)
    if unknown:
        raise ValueError(f"unknown actions for {key}: {sorted(unknown)}")
    object_type = ObjectType(key, label, tuple(actions), model, description)
    _object_types[key] = object_type
    return object_type


def object_types() -> list[ObjectType]:
    return list(_object_types.values())


def object_type(key: str) -> ObjectType:
    try:
        return _object_types[key]
    except KeyError:
        raise LookupError(f"no object type {key!r} is registered") from None


def is_signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def granted_permissions(user: Any) -> frozenset[tuple[str, str]]:
    """Every (object type, action) ``user`` holds through their roles (superusers: all)."""
    if not is_signed_in(user):
        return frozenset()
    if user.is_superuser:
        return frozenset((t.key, a) for t in _object_types.values() for a in t.actions)
    from kith.security.selectors import holding

    return holding(user).permissions


def has_permission(user: Any, object_type_key: str, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    object_type(object_type_key)  # a typo must fail loudly, not deny silently
    return (object_type_key, action) in granted_permissions(user)


def require_permission(user: Any, object_type_key: str, action: str) -> None:
    if not has_permission(user, object_type_key, action):
        raise PermissionDenied(
            _("You do not have the permission to %(action)s %(object)s.")
            % {"action": ACTIONS[action], "object": object_type(object_type_key).label}
        )


def two_factor_required(user: Any) -> bool:
    """Whether one of ``user``'s roles requires two-factor authentication."""
    if not is_signed_in(user):
        return False
    from kith.security.selectors import holding

    return holding(user).two_factor


def has_clearance(user: Any) -> bool:
    """Whether ``user`` sees sensitive fields unmasked without asking (a role with clearance, or admin)."""
    if not is_signed_in(user):
        return False
    if user.is_superuser:
        return True
    from kith.security.selectors import holding

    return holding(user).clearance


def can_administer_catalogues(user: Any) -> bool:
    """Custom fields, classification trees, tags, roles, relationship types and numbering."""
    return has_permission(user, "catalogue", ADMINISTER)
