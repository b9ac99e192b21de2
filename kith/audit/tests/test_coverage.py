"""Every installed model is audited or exempt with a reason: a new model makes this fail until decided."""

from __future__ import annotations

from kith.audit import registry


def test_every_model_is_audited_or_explicitly_exempt():
    missing = registry.uncovered_models()
    assert not missing, (
        "These models are neither audited nor exempt from the audit trail; in the owning app's "
        "AppConfig.ready call kith.audit.registry.audit_model/audit_app or exempt(model, reason): "
        + ", ".join(missing)
    )


def test_exemptions_carry_reasons():
    assert all(reason.strip() for reason in registry.exemptions().values())
    assert "audit.auditentry" in registry.exemptions()


def test_business_models_are_audited():
    from django.apps import apps

    for label in (
        "parties.Customer",
        "parties.Phone",
        "parties.CustomFieldDefinition",
        "parties.Category",
        "parties.Tag",
        "parties.PartyRole",
        "parties.Relationship",
        "parties.RelationshipType",
        "parties.Interaction",
        "security.User",
        "core.SiteSetting",
    ):
        assert registry.options_for(apps.get_model(label)) is not None, label
