"""Admin catalogues: custom fields keep values when edited or retired; trees rename whole branches."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kith.parties import services
from kith.parties.models import Category, Customer
from kith.parties.services import catalogues
from kith.parties.tests.factories import company, person

pytestmark = pytest.mark.django_db


def _field(**data):
    data.setdefault("label", data.get("key", "Field").title())
    return catalogues.custom_field_create(actor=None, data=data)


def test_custom_field_values_are_validated_by_type(user):
    _field(key="loyalty_points", field_type="integer", min_value="0", max_value="1000")
    _field(key="segment", field_type="choice", choices="Gold\nSilver")
    _field(key="website", field_type="url", applies_to="company")
    with pytest.raises(ValidationError) as err:
        person(user, custom={"loyalty_points": "12.5", "segment": "Bronze"})
    assert set(err.value.message_dict) == {"custom.loyalty_points", "custom.segment"}
    with pytest.raises(ValidationError) as err:
        person(user, custom={"website": "https://example.com"})  # companies only
    assert "custom.website" in err.value.message_dict
    ok = person(user, custom={"loyalty_points": "12", "segment": "Gold"})
    assert ok.custom_data == {"loyalty_points": 12, "segment": "Gold"}


def test_required_custom_field_must_be_given_on_create(user):
    _field(key="vat_id", field_type="text", required=True, applies_to="company", pattern=r"[A-Z]{2}\d+")
    with pytest.raises(ValidationError) as err:
        company(user)
    assert "custom.vat_id" in err.value.message_dict
    with pytest.raises(ValidationError):
        company(user, custom={"vat_id": "not valid"})
    assert company(user, custom={"vat_id": "DE123"}).custom_data["vat_id"] == "DE123"


def test_retiring_or_editing_a_definition_keeps_stored_values(user):
    definition = _field(key="segment", field_type="choice", choices=["Gold", "Silver"])
    customer = person(user, custom={"segment": "Gold"})
    catalogues.custom_field_update(
        actor=None, definition=definition, data={"label": "Tier", "choices": ["Silver"]}
    )
    catalogues.custom_field_retire(actor=None, definition=definition)
    services.customer_update(
        actor=user, customer=customer, expected_version=None, data={"notes": "x"}, custom={}
    )
    assert Customer.objects.get(pk=customer.pk).custom_data == {"segment": "Gold"}
    with pytest.raises(ValidationError):
        services.customer_update(
            actor=user, customer=customer, expected_version=None, custom={"segment": "Gold"}
        )  # retired: no longer accepted as input


def test_custom_field_key_and_type_are_frozen():
    definition = _field(key="points", field_type="integer")
    with pytest.raises(ValidationError) as err:
        catalogues.custom_field_update(actor=None, definition=definition, data={"field_type": "text"})
    assert "field_type" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        _field(key="points", field_type="text")
    assert "key" in err.value.message_dict


def test_bad_custom_field_definitions_are_refused():
    with pytest.raises(ValidationError) as err:
        catalogues.custom_field_create(
            actor=None,
            data={"key": "9bad key", "label": "", "field_type": "colour", "pattern": "("},
        )
    assert {"key", "label", "field_type"} <= set(err.value.message_dict)
    with pytest.raises(ValidationError) as err:
        _field(key="size", field_type="decimal", min_value="10", max_value="1")
    assert "max_value" in err.value.message_dict


def test_category_tree_rename_moves_the_branch(user):
    tree = catalogues.category_tree_create(actor=None, data={"name": "Industry"})
    telecom = catalogues.category_create(actor=None, tree=tree, name="Telecom")
    mobile = catalogues.category_create(actor=None, tree=tree, name="Mobile", parent=telecom)
    customer = company(user)
    services.customer_update(actor=user, customer=customer, expected_version=None, category_ids=[mobile.pk])
    catalogues.category_rename(actor=None, category=telecom, name="Telecommunications")
    mobile.refresh_from_db()
    assert mobile.path == "Telecommunications/Mobile"
    assert list(customer.categories.all()) == [mobile]
    with pytest.raises(ValidationError):
        catalogues.category_create(actor=None, tree=tree, name="mobile", parent=telecom)


def test_single_choice_tree_allows_one_node(user):
    tree = catalogues.category_tree_create(actor=None, data={"name": "Value tier", "allow_multiple": False})
    gold = catalogues.category_create(actor=None, tree=tree, name="Gold")
    silver = catalogues.category_create(actor=None, tree=tree, name="Silver")
    customer = person(user)
    with pytest.raises(ValidationError) as err:
        services.customer_update(
            actor=user, customer=customer, expected_version=None, category_ids=[gold.pk, silver.pk]
        )
    assert "categories" in err.value.message_dict
    assert Category.objects.count() == 2


def test_tags_are_case_insensitive_and_roles_must_exist(user):
    customer = person(user)
    services.customer_update(
        actor=user, customer=customer, expected_version=None, tag_names=["VIP", "vip ", "Golf"]
    )
    assert sorted(t.name for t in customer.tags.all()) == ["Golf", "VIP"]
    with pytest.raises(ValidationError) as err:
        services.customer_update(actor=user, customer=customer, expected_version=None, role_ids=[999999])
    assert "roles" in err.value.message_dict
    role = catalogues.role_create(actor=None, data={"code": "payer", "name": "Payer"})
    services.customer_update(actor=user, customer=customer, expected_version=None, role_ids=[role.pk])
    assert list(customer.roles.all()) == [role]


def test_relationship_type_sides_freeze_once_used(user):
    rtype = catalogues.relationship_type_create(
        actor=None,
        data={
            "code": "employs",
            "name": "employs",
            "inverse_name": "employed by",
            "from_kind": "company",
            "to_kind": "person",
        },
    )
    services.relationship_add(actor=user, type=rtype, from_customer=company(user), to_customer=person(user))
    with pytest.raises(ValidationError) as err:
        catalogues.relationship_type_update(actor=None, type=rtype, data={"to_kind": "company"})
    assert "to_kind" in err.value.message_dict
    catalogues.relationship_type_update(actor=None, type=rtype, data={"inverse_name": "works for"})
    rtype.refresh_from_db()
    assert rtype.inverse_name == "works for"
