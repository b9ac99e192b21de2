"""Small builders for tests; they go through the services like every other entry point."""

from __future__ import annotations

from typing import Any

from kith.parties import services
from kith.parties.models import Customer


def person(actor: Any = None, **data: Any) -> Customer:
    phones = data.pop("phones", ())
    emails = data.pop("emails", ())
    addresses = data.pop("addresses", ())
    custom = data.pop("custom", None)
    data.setdefault("family_name", "Smith")
    data.setdefault("given_name", "John")
    return services.customer_create(
        actor=actor,
        kind="person",
        data=data,
        phones=phones,
        emails=emails,
        addresses=addresses,
        custom=custom,
        tag_names=data.pop("tag_names", None),
    )


def company(actor: Any = None, **data: Any) -> Customer:
    phones = data.pop("phones", ())
    emails = data.pop("emails", ())
    custom = data.pop("custom", None)
    data.setdefault("legal_name", "Acme Trading Ltd")
    return services.customer_create(
        actor=actor, kind="company", data=data, phones=phones, emails=emails, custom=custom
    )
