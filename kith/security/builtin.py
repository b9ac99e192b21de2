"""The roles Kith starts with. Created when missing after every ``migrate``; admins change them freely,
except that the administrator role always holds every permission (new object types included)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from kith.security.rules import EXPORT, VIEW, object_types

ADMINISTRATOR = "administrator"

# code: (name, description, {object type: actions} or "*" for all, extras)
BUILTIN: dict[str, tuple[str, str, Any, dict[str, bool]]] = {
    ADMINISTRATOR: (
        gettext_noop("Administrator"),
        gettext_noop("Every permission, settings included."),
        "*",
        {"sensitive_clearance": True, "sees_all": True},
    ),
    "sales_manager": (
        gettext_noop("Sales manager"),
        gettext_noop("Works with customers, sees the team's, approves their requests and exports."),
        {
            "customer": ("view", "create", "edit", "delete", "export", "import", "approve"),
            "interaction": ("view", "create", "edit", "delete", "export"),
            "relationship": ("view", "create", "edit", "delete"),
            "catalogue": ("view",),
            "product": ("view", "create", "edit", "delete", "export", "import"),
            "price_list": ("view", "create", "edit", "delete", "export", "import"),
            "lead": ("view", "create", "edit", "delete", "export", "import", "administer"),
            "opportunity": ("view", "create", "edit", "delete", "export", "import", "approve", "administer"),
            "quote": ("view", "create", "edit", "delete", "export"),
            "order": ("view", "create", "edit", "delete", "export"),
            "contract": ("view", "create", "edit", "delete", "export"),
            "invoice": ("view", "create", "edit", "delete", "export"),
            "consumption": ("view", "create", "delete", "export", "import"),
        },
        {},
    ),
    "sales_rep": (
        gettext_noop("Sales representative"),
        gettext_noop("Works with their own customers and those shared with them."),
        {
            "customer": ("view", "create", "edit"),
            "interaction": ("view", "create", "edit"),
            "relationship": ("view", "create", "edit", "delete"),
            "catalogue": ("view",),
            "product": ("view",),
            "price_list": ("view",),
            "lead": ("view", "create", "edit"),
            "opportunity": ("view", "create", "edit"),
            "quote": ("view", "create", "edit"),
            "order": ("view", "create", "edit"),
            "contract": ("view", "create", "edit"),
            "invoice": ("view", "create", "edit"),
            "consumption": ("view", "create"),
        },
        {},
    ),
    "auditor": (
        gettext_noop("Auditor"),
        gettext_noop(
            "Reads every record and the audit trail; changes nothing and exports only the audit trail."
        ),
        "view",
        {"sees_all": True},
    ),
    "viewer": (
        gettext_noop("Viewer"),
        gettext_noop("Looks at what is shared with them; changes nothing. New users start here."),
        {
            "customer": (VIEW,),
            "interaction": (VIEW,),
            "relationship": (VIEW,),
            "catalogue": (VIEW,),
            "product": (VIEW,),
            "price_list": (VIEW,),
            "lead": (VIEW,),
            "opportunity": (VIEW,),
            "quote": (VIEW,),
            "order": (VIEW,),
            "contract": (VIEW,),
            "invoice": (VIEW,),
            "consumption": (VIEW,),
        },
        {"is_default": True},
    ),
}


def permissions_for(spec: Any, code: str = "") -> list[str]:
    out: list[str] = []
    for t in object_types():
        if spec == "*":
            out += [f"{t.key}.{a}" for a in t.actions]
        elif spec == "view":  # the auditor: view everything, export the audit trail only
            out += [f"{t.key}.{a}" for a in t.actions if a == VIEW or (t.key == "audit" and a == EXPORT)]
        else:
            out += [f"{t.key}.{a}" for a in spec.get(t.key, ()) if a in t.actions]
    return sorted(set(out))


def ensure_builtin_roles(**kwargs: Any) -> None:
    from kith.security.models import Role

    if Role._meta.db_table not in _tables():
        return
    for code, (name, description, spec, extras) in BUILTIN.items():
        role = Role.objects.filter(code=code).first()
        if role is None:
            Role.objects.create(
                code=code, name=name, description=description, permissions=permissions_for(spec), **extras
            )
        elif code == ADMINISTRATOR:
            wanted = permissions_for(spec)
            if sorted(role.permissions or []) != wanted:
                role.permissions = wanted
                role.save(update_fields=["permissions"])
    from kith.security.services import changed, rebuild_reach

    rebuild_reach()
    changed()


def _tables() -> list[str]:
    from django.db import connection

    return connection.introspection.table_names()
