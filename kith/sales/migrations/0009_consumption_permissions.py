"""Give the built-in roles of an existing installation the consumption permissions a new one starts with
(only adds)."""

from django.db import migrations

from kith.security.role_grants import grant_to_builtin_roles

DEFAULTS = {
    "sales_manager": [f"consumption.{a}" for a in ("view", "create", "delete", "export", "import")],
    "sales_rep": ["consumption.view", "consumption.create"],
    "viewer": ["consumption.view"],
}


class Migration(migrations.Migration):
    dependencies = [("sales", "0008_targets"), ("security", "0005_api_tokens")]

    operations = [migrations.RunPython(grant_to_builtin_roles(DEFAULTS), migrations.RunPython.noop)]
