"""Rules of the customer services: numbering, validation, versions, relationships, deletion."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kith.core.errors import ConflictError, DeleteRefused
from kith.parties import services
from kith.parties.models import Customer, Phone, RelationshipType
from kith.parties.services.numbering import set_pattern, validate_pattern
from kith.parties.tests.factories import company, person
from kith.security.testing import with_clearance

pytestmark = pytest.mark.django_db


def test_customer_number_follows_pattern_and_is_never_reused(user):
    set_pattern("K{year}-{seq:05}")
    first = person(user)
    year = timezone.now().year
    assert first.customer_number == f"K{year}-00001"
    services.customer_delete(actor=user, customer=first)
    second = person(user, family_name="Jones")
    assert second.customer_number == f"K{year}-00002"


@pytest.mark.parametrize("pattern", ["C{year}", "C{seq}{seq}", "C{foo}{seq}", "C{seq:xx}"])
def test_bad_number_patterns_are_refused(pattern):
    with pytest.raises(ValidationError):
        validate_pattern(pattern)


def test_phone_is_stored_in_e164_with_national_digits(user, settings):
    settings.KITH_DEFAULT_REGION = "CN"
    customer = person(user, phones=[{"number": "138-0013-8000", "label": "mobile"}])
    phone = customer.phones.get()
    assert phone.number == "+8613800138000"
    assert phone.national_number == "13800138000"
    assert phone.is_primary


def test_invalid_contact_points_give_field_errors_and_save_nothing(user):
    with pytest.raises(ValidationError) as err:
        person(
            user, phones=[{"number": "12"}], emails=[{"address": "not-an-email"}, {"address": "a@b.example"}]
        )
    assert set(err.value.message_dict) == {"phones.0.number", "emails.0.address"}
    assert Customer.objects.count() == 0
    assert Phone.objects.count() == 0


def test_email_unique_per_customer_case_insensitive(user):
    with pytest.raises(ValidationError) as err:
        person(user, emails=[{"address": "Ann@Example.com"}, {"address": "ann@example.COM"}])
    assert "emails.1.address" in err.value.message_dict


def test_person_needs_a_name_and_future_birth_date_is_refused(user):
    with pytest.raises(ValidationError) as err:
        services.customer_create(
            actor=user,
            kind="person",
            data={"birth_date": timezone.localdate() + dt.timedelta(days=2)},
        )
    assert {"family_name", "birth_date"} <= set(err.value.message_dict)


def test_display_name_defaults_follow_culture(user):
    assert person(user, family_name="张", given_name="三").display_name == "张三"
    assert person(user, family_name="Smith", given_name="Anna").display_name == "Anna Smith"
    assert company(user, legal_name="Acme Trading Ltd", short_name="Acme").display_name == "Acme"


def test_chinese_names_get_pinyin_keys(user):
    customer = person(user, family_name="张", given_name="三")
    assert customer.search_pinyin == "zhangsan"
    assert customer.search_initials == "zs"


def test_stale_version_is_a_conflict_and_changes_nothing(user):
    customer = person(user)
    loaded_version = customer.version
    services.customer_update(
        actor=user, customer=customer, expected_version=loaded_version, data={"notes": "first"}
    )
    stale = Customer.objects.get(pk=customer.pk)
    with pytest.raises(ConflictError):
        services.customer_update(
            actor=user, customer=stale, expected_version=loaded_version, data={"notes": "second"}
        )
    assert Customer.objects.get(pk=customer.pk).notes == "first"


def test_birth_date_keeps_the_birthday_in_step(user):
    with_clearance(user)  # the birth date is sensitive: changing it needs clearance
    customer = person(user, birth_date="1990-02-28")
    assert customer.special_dates.get().month_day == 228
    services.customer_update(
        actor=user, customer=customer, expected_version=None, data={"birth_date": dt.date(1992, 2, 29)}
    )
    assert customer.special_dates.get().month_day == 229
    services.customer_update(actor=user, customer=customer, expected_version=None, data={"birth_date": None})
    assert not customer.special_dates.exists()


def test_relationship_rules(user):
    parent_type = RelationshipType.objects.create(
        code="parent", name="parent of", inverse_name="child of", from_kind="person", to_kind="person"
    )
    anna, ben = person(user, given_name="Anna"), person(user, given_name="Ben")
    acme = company(user)
    services.relationship_add(actor=user, type=parent_type, from_customer=anna, to_customer=ben)
    with pytest.raises(ValidationError, match="already recorded"):
        services.relationship_add(actor=user, type=parent_type, from_customer=anna, to_customer=ben)
    with pytest.raises(ValidationError, match="itself"):
        services.relationship_add(actor=user, type=parent_type, from_customer=anna, to_customer=anna)
    with pytest.raises(ValidationError) as err:
        services.relationship_add(actor=user, type=parent_type, from_customer=anna, to_customer=acme)
    assert "to_customer" in err.value.message_dict


def test_customer_with_business_records_is_archived_not_deleted(user, admin_user):
    customer = person(user)
    services.interaction_create(actor=user, customer=customer, data={"kind": "visit", "subject": "Kick-off"})
    with pytest.raises(DeleteRefused):
        services.customer_delete(actor=user, customer=customer)
    assert Customer.objects.filter(pk=customer.pk).exists()
    services.customer_delete(actor=admin_user, customer=customer)
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_refused_update_leaves_the_record_and_object_unchanged(user):
    customer = person(user, phones=[{"number": "+44 20 7946 0000"}])
    with pytest.raises(ValidationError):
        services.customer_update(
            actor=user, customer=customer, expected_version=1, data={"family_name": "New"}, role_ids=[424242]
        )
    assert customer.version == 1 and customer.family_name == "Smith"
    assert Customer.objects.get(pk=customer.pk).family_name == "Smith"
    services.customer_update(actor=user, customer=customer, expected_version=1, data={"family_name": "New"})
    assert Customer.objects.get(pk=customer.pk).version == 2


def test_info_change_note_lists_only_what_changed(user):
    from kith.core import timeline

    customer = person(user, phones=[{"number": "+44 20 7946 0000", "label": "work"}])
    services.customer_update(
        actor=user,
        customer=customer,
        expected_version=None,
        data={"notes": "prefers mornings"},
        phones=[{"number": "+442079460000", "label": "work"}],
    )
    entry = timeline.entries_for(customer, user=None).entries[0]
    assert entry.kind == "parties.info_change"
    assert entry.summary == "Changed: notes"


def test_owner_must_be_an_active_user(user, django_user_model):
    gone = django_user_model.objects.create_user(username="gone", is_active=False)
    with pytest.raises(ValidationError) as err:
        person(user, owner=gone.pk)
    assert "owner" in err.value.message_dict
    with pytest.raises(ValidationError):
        person(user, owner="nobody")
    assert person(user, owner=user.pk).owner == user
    assert person(user).owner == user  # defaults to whoever creates it


def test_numbers_already_given_under_another_pattern_are_skipped(user):
    set_pattern("A{seq:02}")
    assert [person(user).customer_number for _ in range(2)] == ["A01", "A02"]
    set_pattern("A0{seq}")  # a new sequence whose first numbers were given already
    assert person(user).customer_number == "A03"


def test_too_long_text_is_a_field_error_on_every_engine(user):
    with pytest.raises(ValidationError) as err:
        services.customer_create(
            actor=user,
            kind="company",
            data={"legal_name": "Acme", "industry": "x" * 101, "channel": "y" * 500},
        )
    assert set(err.value.message_dict) == {"industry", "channel"}
    assert not Customer.objects.exists()


def test_customers_written_together_get_classification_and_history_as_one_by_one(user, admin_user):
    from kith.audit.models import AuditEntry
    from kith.parties.models import Category, CategoryTree, PartyRole, Tag
    from kith.parties.services.customers import NewCustomer, customer_prepare, customers_create

    tree = CategoryTree.objects.create(name="Tier", allow_multiple=True)
    gold = Category.objects.create(tree=tree, name="Gold")
    buyer = PartyRole.objects.create(code="buyer", name="Buyer")
    Tag.objects.create(name="VIP")
    items = [
        NewCustomer(
            "person", {"family_name": "Bulk", "given_name": "One"}, category_ids=[gold.pk], role_ids=[]
        ),
        NewCustomer("person", {"family_name": "Bulk", "given_name": "Two"}, tag_names=["vip", "Fair 2026"]),
        NewCustomer("person", {"family_name": "Bulk", "given_name": "Three"}, role_ids=[buyer.pk]),
    ]
    one, two, three = customers_create(prepared=[customer_prepare(actor=admin_user, item=i) for i in items])
    single = services.customer_create(
        actor=admin_user, kind="person", data={"family_name": "Alone"}, tag_names=["VIP", "Fair 2026"]
    )
    assert [c.pk for c in one.categories.all()] == [gold.pk] and not one.tags.exists()
    assert (
        sorted(t.name for t in two.tags.all())
        == ["Fair 2026", "VIP"]
        == sorted(single.tags.values_list("name", flat=True))
    )
    assert Tag.objects.filter(name_key="fair 2026").count() == 1
    assert list(three.roles.all()) == [buyer]

    def tag_history(customer):
        entries = AuditEntry.objects.filter(object_type="parties.customer", object_id=str(customer.pk))
        return [e.changes["tags"] for e in entries if "tags" in e.changes]

    def labels(history):
        return [sorted(item["repr"] for item in h["added"]) for h in history]

    assert labels(tag_history(two)) == labels(tag_history(single)) == [["Fair 2026", "VIP"]]

    def changes_of(customer):
        return [
            e.changes
            for e in AuditEntry.objects.filter(object_type="parties.customer", object_id=str(customer.pk))
        ]

    assert [c for c in changes_of(three) if "roles" in c] == [
        {"roles": {"added": [{"id": buyer.pk, "repr": "Buyer"}]}}
    ]
    assert not [c for c in changes_of(one) if "roles" in c or "tags" in c]
