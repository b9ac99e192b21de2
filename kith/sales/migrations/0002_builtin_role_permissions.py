"""Give the built-in roles of an existing installation the sales permissions a new one starts with (a new
installation gets them when ``ensure_builtin_roles`` creates the roles after ``migrate``). Only adds:
a permission an administrator took away before is not restored later, as this runs once."""

import secrets

from django.db import migrations

DEFAULTS = {
    "sales_manager": [
        f"{t}.{a}"
        for t in ("product", "price_list")
        for a in ("view", "create", "edit", "delete", "export", "import")
    ],
    "sales_rep": ["product.view", "price_list.view"],
    "viewer": ["product.view", "price_list.view"],
}


def add_permissions(apps, schema_editor):  # type: ignore[no-untyped-def]
    role_model = apps.get_model("security", "Role")
    changed = False
    for role in role_model.objects.filter(code__in=list(DEFAULTS)):
        held = list(role.permissions or [])
        missing = [p for p in DEFAULTS[role.code] if p not in held]
        if missing:
            role.permissions = sorted(set(held) | set(missing))
            role.save(update_fields=["permissions"])
            changed = True
    if changed:  # what users hold is cached per security generation: move it on
        generation = apps.get_model("security", "Generation")
        generation.objects.update_or_create(pk=1, defaults={"value": secrets.randbits(62)})


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("security", "0005_api_tokens")]

    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
