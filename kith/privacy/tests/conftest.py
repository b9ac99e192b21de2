"""Fixtures of the privacy tests: a customer with something in every section the export knows."""

from __future__ import annotations

from typing import Any

import pytest

from kith.parties import services
from kith.parties.services import catalogues
from kith.parties.tests.factories import company, person
from kith.privacy.tests.factories import consent


@pytest.fixture
def rich_customer(admin_user: Any, settings: Any) -> Any:
    settings.KITH_DEFAULT_REGION = "CN"
    catalogues.custom_field_create(
        actor=None, data={"key": "shoe_size", "label": "Shoe size", "field_type": "integer"}
    )
    tree = catalogues.category_tree_create(actor=None, data={"name": "Tier"})
    gold = catalogues.category_create(actor=None, tree=tree, name="Gold")
    role = catalogues.role_create(actor=None, data={"code": "buyer", "name": "Buyer"})
    customer = services.customer_create(
        actor=admin_user,
        kind="person",
        data={
            "family_name": "Quixotel",
            "given_name": "Wilhelmina",
            "birth_date": "1980-02-03",
            "gender": "female",
            "marital_status": "married",
            "id_document_number": "X1234567",
            "notes": "Prefers calls after 6pm; husband is Bob.",
        },
        phones=[{"number": "+86 139-1234-5678"}],
        emails=[{"address": "wilhelmina.quixotel@example.org"}],
        addresses=[{"line1": "12 Elm Street", "city": "Springfield", "country": "US"}],
        custom={"shoe_size": 39},
        category_ids=[gold.pk],
        tag_names=["VIP"],
        role_ids=[role.pk],
    )
    employer = company(admin_user, legal_name="Acme Trading Ltd")
    kind = catalogues.relationship_type_create(
        actor=None,
        data={
            "code": "employs",
            "name": "employs",
            "inverse_name": "employed by",
            "from_kind": "company",
            "to_kind": "person",
        },
    )
    services.relationship_add(actor=admin_user, type=kind, from_customer=employer, to_customer=customer)
    services.special_date_add(actor=admin_user, customer=customer, kind="wedding", month=6, day=1, year=2005)
    for subject in ("Visit about Wilhelmina's new flat", "Call: complaint by W. Quixotel"):
        services.interaction_create(
            actor=admin_user,
            customer=customer,
            data={
                "kind": "call",
                "subject": subject,
                "content": "She lives at 12 Elm Street",
                "channel": "phone",
            },
        )
    consent(admin_user, customer, "given", evidence="form signed by Wilhelmina Quixotel")
    customer.refresh_from_db()
    return customer


@pytest.fixture
def other_customer(admin_user: Any) -> Any:
    return person(admin_user, family_name="Bystander", given_name="Otto")
