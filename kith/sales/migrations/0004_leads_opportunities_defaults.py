"""Give the built-in roles of an existing installation the lead and opportunity permissions a new one
starts with (only adds). The default pipeline is made after ``migrate`` when there is none
(``kith.sales.services.pipelines.ensure_default_pipeline``)."""

from django.db import migrations

from kith.security.role_grants import grant_to_builtin_roles

DEFAULTS = {
    "sales_manager": [
        *(f"lead.{a}" for a in ("view", "create", "edit", "delete", "export", "import", "administer")),
        *(
            f"opportunity.{a}"
            for a in ("view", "create", "edit", "delete", "export", "import", "approve", "administer")
        ),
        *(f"quote.{a}" for a in ("view", "create", "edit", "delete", "export")),
    ],
    "sales_rep": [
        "quote.view",
        "quote.create",
        "quote.edit",
        "lead.view",
        "lead.create",
        "lead.edit",
        "opportunity.view",
        "opportunity.create",
        "opportunity.edit",
    ],
    "viewer": ["lead.view", "opportunity.view", "quote.view"],
}

add_permissions = grant_to_builtin_roles(DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_leads_opportunities_quotes"), ("security", "0005_api_tokens")]

    operations = [
        migrations.RunPython(add_permissions, migrations.RunPython.noop),
    ]
