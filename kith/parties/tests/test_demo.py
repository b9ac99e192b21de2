"""``kith demo``: what it writes must look exactly like what the services write, and be reproducible."""

from __future__ import annotations

import datetime as dt

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from kith.core import search
from kith.core.models import SiteSetting, TimelineEntry
from kith.parties import demo
from kith.parties.demo import load_demo
from kith.parties.models import (
    Customer,
    CustomerNumberSequence,
    Email,
    Interaction,
    Phone,
    Relationship,
    SpecialDate,
)
from kith.parties.selectors import anniversaries_upcoming
from kith.parties.selectors.search import CustomerFilters, customer_search
from kith.parties.services.contact_points import normalise_email, normalise_phone
from kith.parties.services.custom_fields import clean_custom_data
from kith.parties.services.interactions import timeline_kind
from kith.parties.services.search_index import customer_tables
from kith.parties.services.search_keys import name_keys

pytestmark = pytest.mark.django_db

N = 300


def _fingerprint(customers: list[Customer]) -> list[tuple[object, ...]]:
    """What the data says, without the numbers a second run necessarily gets."""
    return [
        (
            c.kind,
            c.display_name,
            c.legal_name,
            c.status,
            c.owner.username if c.owner else None,
            tuple(p.number for p in c.phones.all()),
            tuple(e.address for e in c.emails.all()),
            tuple(a.line1 for a in c.addresses.all()),
            tuple(sorted(t.name for t in c.tags.all())),
            c.custom_data,
        )
        for c in customers
    ]


def _batch(numbers: list[str]) -> list[Customer]:
    return list(
        Customer.objects.filter(customer_number__in=numbers)
        .select_related("owner")
        .prefetch_related("phones", "emails", "addresses", "tags")
        .order_by("customer_number")
    )


@pytest.fixture
def loaded() -> list[str]:
    call_command("demo", customers=N, seed=7, users=4, verbosity=0)
    return list(Customer.objects.order_by("customer_number").values_list("customer_number", flat=True))


def test_counts_and_shape(loaded):
    assert len(loaded) == N
    persons = Customer.objects.filter(kind="person").count()
    assert 0.6 * N < persons < 0.8 * N
    assert set(Customer.objects.values_list("owner__username", flat=True)) <= {
        "am01", "am02", "am03", "am04", None,
    }  # fmt: skip
    assert get_user_model().objects.filter(username__startswith="am").count() == 4
    assert not any(
        u.has_usable_password() for u in get_user_model().objects.filter(username__startswith="am")
    )
    assert Phone.objects.values("customer").distinct().count() == N
    assert Phone.objects.filter(is_primary=True).count() == N
    interactions = Interaction.objects.count()
    assert 3.5 * N < interactions < 6.5 * N
    assert Relationship.objects.exists()
    assert Customer.objects.filter(categories__isnull=False).distinct().count() > N / 3
    assert Customer.objects.filter(roles__code="employee").exists()
    three_years_ago = timezone.now() - dt.timedelta(days=3 * 365 + 1)
    assert not Interaction.objects.filter(occurred_at__lt=three_years_ago).exists()
    assert not Interaction.objects.filter(occurred_at__gt=timezone.now()).exists()


def test_contact_points_are_normalised_like_the_services_do(loaded):
    number_index, national_index = (
        Phone._meta.get_field("number_index"),
        Phone._meta.get_field("national_index"),
    )
    rows = Phone.objects.values_list("number", "national_number", "number_index", "national_index")
    for number, national, by_number, by_national in rows:
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number
        assert normalise_phone(number) == (number, national)
        # encrypted like the services store them: the blind indexes find them
        assert (by_number, by_national) == (number_index.index_of(number), national_index.index_of(national))
    for address, key in Email.objects.values_list("address", "address_key"):
        assert normalise_email(address) == (address, key)
    regions = {
        phonenumbers.region_code_for_number(phonenumbers.parse(n))
        for n in Phone.objects.values_list("number", flat=True)
    }
    assert {"CN", "US", "DE"} <= regions


def test_search_keys_custom_data_and_derived_dates_match_the_services(loaded):
    for c in Customer.objects.all():
        names = (
            c.display_name
            if c.is_person
            else " ".join(p for p in (c.display_name, c.legal_name, c.short_name) if p)
        )
        assert (c.search_name, c.search_pinyin, c.search_initials) == name_keys(names)
        assert clean_custom_data(kind=c.kind, values=c.custom_data) == c.custom_data
        derived = {
            (d.kind, d.year, d.month, d.day)
            for d in c.special_dates.filter(kind__in=["birthday", "founding"])
        }
        date = c.birth_date if c.is_person else c.founded_date
        # a birthday keeps no year: the year stays in the encrypted birth date
        expected: set[tuple[str, int | None, int, int]]
        if date is None:
            expected = set()
        elif c.is_person:
            expected = {("birthday", None, date.month, date.day)}
        else:
            expected = {("founding", date.year, date.month, date.day)}
        assert derived == expected
    assert Customer.objects.filter(search_pinyin__gt="").exists()  # Chinese names got their pinyin
    for d in SpecialDate.objects.all():
        assert d.month_day == d.month * 100 + d.day


def test_every_interaction_is_on_the_timeline_as_publish_would_put_it(loaded):
    customer_type = ContentType.objects.get_for_model(Customer)
    interaction_type = ContentType.objects.get_for_model(Interaction)
    entries = {
        e.source_id: e
        for e in TimelineEntry.objects.filter(source_type=interaction_type, subject_type=customer_type)
    }
    interactions = list(Interaction.objects.all())
    assert len(entries) == len(interactions) > 0
    for i in interactions:
        entry = entries[i.pk]
        assert entry.subject_id == i.customer_id
        assert entry.kind == timeline_kind(i.kind)
        assert entry.occurred_at == i.occurred_at
        assert entry.title == i.subject[:300]
        assert entry.summary == i.content.strip()[:500]
        assert entry.actor_id == i.actor_id


def test_every_manager_has_anniversaries_in_the_coming_week(loaded):
    today = timezone.localdate()
    for manager in get_user_model().objects.filter(username__startswith="am"):
        found = anniversaries_upcoming(user=manager, start=today, days=7, owner_id=manager.pk)
        assert len(found) >= 3, manager.username


def test_same_seed_same_data_and_a_second_run_never_collides(loaded):
    first = _fingerprint(_batch(loaded))
    load_demo(customers=N, seed=7, users=4)
    numbers = list(Customer.objects.order_by("customer_number").values_list("customer_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 2 * N
    second_numbers = numbers[N:]
    assert not set(second_numbers) & set(loaded)
    assert _fingerprint(_batch(second_numbers)) == first
    assert TimelineEntry.objects.values("source_id").annotate(n=Count("id")).filter(n__gt=1).count() == 0

    load_demo(customers=N, seed=8, users=4)
    third = numbers_after = list(
        Customer.objects.order_by("customer_number").values_list("customer_number", flat=True)
    )[2 * N :]
    assert len(numbers_after) == N
    assert _fingerprint(_batch(third)) != first


def test_a_fresh_database_gets_the_same_numbers(loaded):
    first = [(c.customer_number, c.display_name) for c in _batch(loaded)]
    TimelineEntry.objects.all().delete()
    Interaction.objects.all().delete()
    Customer.objects.all().delete()
    CustomerNumberSequence.objects.all().delete()
    load_demo(customers=N, seed=7, users=4)
    again = list(Customer.objects.order_by("customer_number").values_list("customer_number", "display_name"))
    assert again == first


def _upkeep() -> set[str]:
    """Names of the secondary indexes (and PostgreSQL foreign keys) of the customer tables."""
    return {name for name, _create, _drop in search._load_upkeep(customer_tables())}


def _find(user, q: str) -> list[str]:
    page = customer_search(user=user, filters=CustomerFilters.from_params({"q": q}), limit=500)
    return [row["display_name"] for row in page.rows]


def test_the_database_hashes_like_python():
    values = [0, 1, 2, 12345, 2**31 - 1, 2**32 - 1, 2**32 + 7, 9_876_543_210]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(demo._mix32_sql(str(v)) for v in values))
        assert [int(v) for v in cursor.fetchone()] == [demo._mix32(v) for v in values]


def test_a_large_load_rebuilds_what_it_dropped_and_search_finds_its_customers(
    admin_user,
):  # demo customers belong to the demo account managers
    before = _upkeep()
    assert any(name.endswith("_idx") for name in before)
    if connection.vendor == "postgresql":
        assert "parties_customer_search_name_trgm" in before
    load_demo(customers=200, seed=3, users=2, drop_indexes=True)
    assert _upkeep() == before
    assert not SiteSetting.objects.filter(key=search._DROPPED_KEY).exists()
    assert not any(search.ensure_index(index) for index in search._indexes.values())  # nothing to repair
    acme = Customer.objects.filter(kind="company").order_by("id")[0]
    word = max(acme.search_name.split(), key=len)
    assert len(word) >= 4
    assert acme.display_name in _find(admin_user, word[1:])  # a fragment of the name
    assert acme.display_name in _find(admin_user, acme.phones.get(is_primary=True).number)
    assert (
        Interaction.objects.filter(customer=acme).count()
        == TimelineEntry.objects.filter(
            subject_id=acme.pk, subject_type=ContentType.objects.get_for_model(Customer)
        ).count()
    )


def test_what_a_failed_load_dropped_comes_back(monkeypatch):
    before = _upkeep()

    def broken(self, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo._InteractionSql, "insert", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load_demo(customers=50, seed=3, users=2, drop_indexes=True)
    assert _upkeep() == before
    assert not SiteSetting.objects.filter(key=search._DROPPED_KEY).exists()


def test_what_a_killed_load_dropped_comes_back_with_migrate():
    before = _upkeep()
    definitions = search._load_upkeep(customer_tables())
    search._remember_dropped(definitions)  # as the load does before it drops them ...
    with connection.cursor() as cursor:
        for _name, _create, drop in definitions:
            cursor.execute(drop)
    assert not _upkeep()  # ... and then it was killed
    search.ensure_indexes()  # what every migrate runs
    assert _upkeep() == before
    assert not SiteSetting.objects.filter(key=search._DROPPED_KEY).exists()
