"""Every create, update and delete is recorded field by field, in the transaction that makes it."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from kith.audit.choices import CHANGED, Action
from kith.audit.models import AuditEntry
from kith.core import crypto
from kith.core.settings_store import set_setting
from kith.parties import services
from kith.parties.models import PartyRole, Tag
from kith.parties.services import catalogues
from kith.parties.tests.factories import person

pytestmark = pytest.mark.django_db


def test_customer_create_records_every_field_and_its_contact_points(user, entries):
    customer = person(
        actor=user, phones=[{"number": "+8613800138000"}], emails=[{"address": "a@example.com"}]
    )
    created = entries(object_type="parties.customer", action=Action.CREATE)
    assert len(created) == 1
    entry = created[0]
    assert entry.object_id == str(customer.pk)
    assert entry.customer_id == customer.pk
    assert entry.changes["family_name"] == [None, "Smith"]
    assert entry.changes["owner"] == [None, user.pk]
    assert "search_name" not in entry.changes
    phone = entries(object_type="parties.phone")
    assert [e.action for e in phone] == [Action.CREATE]
    assert phone[0].customer_id == customer.pk
    # the number is kept encrypted, bound to its column, and opens to the number
    before, after = phone[0].changes["number"]
    assert before is None and crypto.is_token(after) and "8613800138000" not in str(phone[0].changes)
    assert crypto.open_token(after, "parties.phone.number") == "+8613800138000"
    assert "number_index" not in phone[0].changes  # derived, not recorded
    assert "8000" not in phone[0].object_repr and phone[0].object_repr.endswith("…00")
    assert entries(object_type="parties.email")[0].customer_id == customer.pk


def test_customer_update_records_before_and_after(user, entries):
    customer = person(actor=user, notes="first")
    services.customer_update(
        actor=user,
        customer=customer,
        expected_version=customer.version,
        data={"notes": "second", "gender": "female"},
    )
    update = entries(object_type="parties.customer", action=Action.UPDATE)
    assert len(update) == 1
    assert update[0].changes == {"notes": ["first", "second"], "gender": ["", "female"]}
    assert update[0].actor_label == ""  # no request or context: the system did it


def test_unchanged_update_writes_no_entry(user, entries):
    customer = person(actor=user, notes="same")
    before = len(entries())
    services.customer_update(
        actor=user, customer=customer, expected_version=customer.version, data={"notes": "same"}
    )
    assert len(entries()) == before


def test_m2m_changes_list_added_and_removed(user, entries):
    customer = person(actor=user)
    services.customer_update(
        actor=user, customer=customer, expected_version=customer.version, tag_names=["VIP", "Gold"]
    )
    added = entries(object_type="parties.customer", action=Action.UPDATE)
    assert {t["repr"] for t in added[-1].changes["tags"]["added"]} == {"VIP", "Gold"}
    customer.refresh_from_db()
    services.customer_update(
        actor=user, customer=customer, expected_version=customer.version, tag_names=["VIP"]
    )
    removed = entries(object_type="parties.customer", action=Action.UPDATE)[-1]
    assert [t["repr"] for t in removed.changes["tags"]["removed"]] == ["Gold"]
    assert removed.customer_id == customer.pk


def test_delete_records_the_last_values_and_cascaded_children(admin_user, entries):
    customer = person(actor=admin_user, phones=[{"number": "+8613800138001"}])
    pk = customer.pk
    services.customer_delete(actor=admin_user, customer=customer)
    deleted = entries(action=Action.DELETE)
    kinds = {e.object_type for e in deleted}
    assert {"parties.customer", "parties.phone"} <= kinds
    customer_entry = next(e for e in deleted if e.object_type == "parties.customer")
    assert customer_entry.object_id == str(pk)
    assert customer_entry.changes["family_name"] == ["Smith", None]


def test_catalogue_objects_are_audited(admin_user, entries):
    role = PartyRole.objects.create(code="buyer", name="Buyer")
    role.name = "Purchaser"
    role.save()
    role.delete()
    actions = [(e.action, e.changes.get("name")) for e in entries(object_type="parties.partyrole")]
    assert actions == [
        (Action.CREATE, [None, "Buyer"]),
        (Action.UPDATE, ["Buyer", "Purchaser"]),
        (Action.DELETE, ["Purchaser", None]),
    ]
    Tag.objects.create(name="Key account")
    assert entries(object_type="parties.tag")[0].changes["name"] == [None, "Key account"]


def test_custom_field_definition_through_its_service(admin_user, entries):
    if not hasattr(catalogues, "custom_field_create"):
        pytest.skip("no custom_field_create service")
    catalogues.custom_field_create(
        actor=admin_user, data={"key": "shoe", "label": "Shoe size", "field_type": "integer"}
    )
    found = entries(object_type="parties.customfielddefinition")
    assert found and found[0].changes["label"] == [None, "Shoe size"]


def test_settings_are_audited(entries):
    set_setting("customer_number_pattern", "K{seq:05}")
    set_setting("customer_number_pattern", "K{seq:06}")
    found = entries(object_type="core.sitesetting")
    assert [e.action for e in found] == [Action.CREATE, Action.UPDATE]
    assert found[1].changes["value"] == ["K{seq:05}", "K{seq:06}"]


def test_passwords_are_never_written_in_clear(django_user_model, entries):
    someone = django_user_model.objects.create_user(username="pat", password="a-long-Passw0rd!")
    someone.set_password("another-Passw0rd!")
    someone.save()
    found = entries(object_type="security.user", action__in=[Action.CREATE, Action.UPDATE])
    assert found[0].changes["password"] == CHANGED
    assert found[1].changes == {"password": CHANGED}
    assert "argon2" not in str([e.changes for e in found])


def test_rolled_back_change_leaves_no_entry(user, entries):
    with pytest.raises(RuntimeError), transaction.atomic():
        person(actor=user, family_name="Ghost")
        raise RuntimeError
    assert not [e for e in entries() if e.changes.get("family_name") == [None, "Ghost"]]


def test_entries_are_chained(user, entries):
    person(actor=user)
    person(actor=user, family_name="Other")
    rows = list(AuditEntry.objects.order_by("seq"))
    assert rows[0].seq == 1
    for before, after in itertools.pairwise(rows):
        assert after.seq == before.seq + 1
        assert after.prev_hash == before.hash
