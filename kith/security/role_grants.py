"""For data migrations of apps that add object types: give the built-in roles of an existing installation
the permissions a new one starts with (a new installation gets them when ``ensure_builtin_roles`` creates
the roles after ``migrate``). Only adds, and runs once: a permission an administrator took away before is
not restored later. Works on the historical models the migration passes in."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any


def grant_to_builtin_roles(defaults: dict[str, list[str]]) -> Callable[[Any, Any], None]:
    """A ``RunPython`` function adding ``defaults`` ({role code: ["type.action", ...]}) to those roles."""

    def grant(apps: Any, schema_editor: Any) -> None:
        role_model = apps.get_model("security", "Role")
        changed = False
        for role in role_model.objects.filter(code__in=list(defaults)):
            held = list(role.permissions or [])
            missing = [p for p in defaults[role.code] if p not in held]
            if missing:
                role.permissions = sorted(set(held) | set(missing))
                role.save(update_fields=["permissions"])
                changed = True
        if changed:  # what users hold is cached per security generation: move it on
            generation = apps.get_model("security", "Generation")
            generation.objects.update_or_create(pk=1, defaults={"value": secrets.randbits(62)})

    return grant
