"""Builders for privacy tests: a role holding the privacy permissions, consents through the service."""

from __future__ import annotations

from typing import Any

from kith.privacy.models import ConsentPurpose
from kith.privacy.services import consents


def privacy_officer(username: str = "dpo") -> Any:
    """A non-administrator who holds every privacy permission and sees customers through a role."""
    from kith.security import services
    from kith.security.models import Role
    from kith.security.testing import make_user

    if not Role.objects.filter(code="privacy_officer").exists():
        services.save_role(
            code="privacy_officer",
            name="Privacy officer",
            permissions=[
                "privacy.view",
                "privacy.edit",
                "privacy.export",
                "privacy.administer",
                "customer.view",
            ],
        )
    return make_user(username, "privacy_officer")


def purpose(code: str = "marketing_email") -> ConsentPurpose:
    return ConsentPurpose.objects.get(code=code)  # from the default catalogue (migration 0002)


def consent(
    actor: Any, customer: Any, status: str = "given", *, code: str = "marketing_email", **kw: Any
) -> Any:
    kw.setdefault("channel", "email")
    kw.setdefault("evidence", "web form 2026-01-05")
    return consents.consent_record(actor=actor, customer=customer, purpose=purpose(code), status=status, **kw)
