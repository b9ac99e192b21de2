"""Give the built-in roles of an existing installation the order, contract and invoice permissions a new
one starts with (only adds; admins change them freely afterwards)."""

from django.db import migrations

from kith.security.role_grants import grant_to_builtin_roles

DEFAULTS = {
    "sales_manager": [
        f"{kind}.{action}"
        for kind in ("order", "contract", "invoice")
        for action in ("view", "create", "edit", "delete", "export")
    ],
    "sales_rep": [
        f"{kind}.{action}"
        for kind in ("order", "contract", "invoice")
        for action in ("view", "create", "edit")
    ],
    "viewer": ["order.view", "contract.view", "invoice.view"],
}


add_permissions = grant_to_builtin_roles(DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("sales", "0006_orders"), ("security", "0005_api_tokens")]

    operations = [migrations.RunPython(add_permissions, migrations.RunPython.noop)]
