"""Who may do what. The one place the web UI and the API ask; the access-control issue grows it into roles."""

from __future__ import annotations

from typing import Any


def is_signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def can_administer_catalogues(user: Any) -> bool:
    """Custom fields, classification trees, tags, roles, relationship types and numbering are admin matters."""
    return is_signed_in(user) and bool(user.is_staff or user.is_superuser)
