"""Give the built-in roles of an existing installation the lead and opportunity permissions a new one
starts with (only adds), and create the default pipeline and the usual close reasons when there is no
pipeline yet (admins rename and change them freely)."""

import secrets

from django.db import migrations

DEFAULTS = {
    "sales_manager": [
        *(f"lead.{a}" for a in ("view", "create", "edit", "delete", "export", "import", "administer")),
        *(
            f"opportunity.{a}"
            for a in ("view", "create", "edit", "delete", "export", "import", "approve", "administer")
        ),
        *(f"quote.{a}" for a in ("view", "create", "edit", "delete", "export")),
    ],
    "sales_rep": ["quote.view", "quote.create", "quote.edit", "lead.view", "lead.create", "lead.edit", "opportunity.view", "opportunity.create",
                  "opportunity.edit"],
    "viewer": ["lead.view", "opportunity.view", "quote.view"],
}

# name, probability, kind, needs a granted approval
STAGES = [
    ("Qualification", 10, "open", False),
    ("Needs analysis", 25, "open", False),
    ("Proposal sent", 50, "open", True),
    ("Negotiation", 75, "open", True),
    ("Won", 100, "won", False),
    ("Lost", 0, "lost", False),
]
REASONS = [
    ("won", "Best price"),
    ("won", "Best product fit"),
    ("won", "Relationship"),
    ("lost", "Price too high"),
    ("lost", "Lost to a competitor"),
    ("lost", "No budget"),
    ("lost", "No decision"),
]


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
    if changed:
        generation = apps.get_model("security", "Generation")
        generation.objects.update_or_create(pk=1, defaults={"value": secrets.randbits(62)})


def default_pipeline(apps, schema_editor):  # type: ignore[no-untyped-def]
    pipeline_model = apps.get_model("sales", "Pipeline")
    if pipeline_model.objects.exists():
        return
    pipeline = pipeline_model.objects.create(name="Sales", is_default=True)
    stage_model = apps.get_model("sales", "Stage")
    for position, (name, probability, kind, approval) in enumerate(STAGES):
        stage_model.objects.create(
            pipeline=pipeline,
            name=name,
            position=position,
            probability=probability,
            kind=kind,
            requires_approval=approval,
        )
    reason_model = apps.get_model("sales", "CloseReason")
    for kind, name in REASONS:
        reason_model.objects.get_or_create(kind=kind, name=name)


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_leads_opportunities_quotes")]

    operations = [
        migrations.RunPython(add_permissions, migrations.RunPython.noop),
        migrations.RunPython(default_pipeline, migrations.RunPython.noop),
    ]
