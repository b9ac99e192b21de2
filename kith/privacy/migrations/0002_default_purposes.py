"""A starting catalogue of consent purposes; administrators rename, retire or add to it."""

from django.db import migrations

DEFAULTS = [
    ("marketing_email", "Marketing by email", "Newsletters and offers sent by email."),
    ("phone_marketing", "Marketing by phone", "Sales and marketing calls and text messages."),
    ("partner_sharing", "Sharing with partners", "Passing contact data to partners and dealers."),
    ("profiling", "Profiling", "Analysing purchases and behaviour to tailor offers."),
]


def add_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    purpose = apps.get_model("privacy", "ConsentPurpose")
    for code, name, description in DEFAULTS:
        purpose.objects.get_or_create(code=code, defaults={"name": name, "description": description})


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
