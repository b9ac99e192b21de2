"""Give the built-in roles of an existing installation the sales permissions a new one starts with (a new
installation gets them when ``ensure_builtin_roles`` creates the roles after ``migrate``). Only adds:
a permission an administrator took away before is not restored later, as this runs once."""

from django.db import migrations

from kith.security.role_grants import grant_to_builtin_roles

DEFAULTS = {
    "sales_manager": [
        f"{t}.{a}"
        for t in ("product", "price_list")
        for a in ("view", "create", "edit", "delete", "export", "import")
    ],
    "sales_rep": ["product.view", "price_list.view"],
    "viewer": ["product.view", "price_list.view"],
}


add_permissions = grant_to_builtin_roles(DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("security", "0005_api_tokens")]

    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
