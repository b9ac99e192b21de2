"""Who has an anniversary on a date, upcoming ones, and 29 February."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kith.parties import services
from kith.parties.selectors import anniversaries_on, anniversaries_upcoming
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


def test_birthday_and_founding_day_on_a_date(user):
    anna = person(user, given_name="Anna", birth_date="1990-05-17")
    acme = company(user, founded_date="2001-05-17")
    person(user, given_name="Other", birth_date="1990-05-18")
    found = anniversaries_on(user=user, date=dt.date(2026, 5, 17))
    assert {(a.customer_id, a.kind, a.years) for a in found} == {
        (anna.pk, "birthday", 36),
        (acme.pk, "founding", 25),
    }


def test_leap_day_birthday_is_celebrated_on_28_february_in_common_years(user):
    leap = person(user, birth_date="2000-02-29")
    assert [a.customer_id for a in anniversaries_on(user=user, date=dt.date(2027, 2, 28))] == [leap.pk]
    assert anniversaries_on(user=user, date=dt.date(2027, 3, 1)) == []
    assert anniversaries_on(user=user, date=dt.date(2028, 2, 28)) == []
    assert [a.date for a in anniversaries_on(user=user, date=dt.date(2028, 2, 29))] == [dt.date(2028, 2, 29)]


def test_upcoming_wraps_the_year_and_is_sorted(user):
    jan = person(user, given_name="Jan", birth_date="1980-01-02")
    dec = person(user, given_name="Dec", birth_date="1985-12-30")
    person(user, given_name="June", birth_date="1985-06-30")
    found = anniversaries_upcoming(user=user, start=dt.date(2026, 12, 28), days=7)
    assert [(a.customer_id, a.date) for a in found] == [
        (dec.pk, dt.date(2026, 12, 30)),
        (jan.pk, dt.date(2027, 1, 2)),
    ]
    assert found[1].years == 47


def test_custom_special_dates_and_owner_filter(user, django_user_model):
    other = make_user("other", "sales_rep", manager=user)  # reports to user: user sees theirs
    mine = person(user, given_name="Mine")
    theirs = person(other, given_name="Theirs")
    services.special_date_add(actor=user, customer=mine, kind="wedding", month=6, day=1, year=2010)
    services.special_date_add(actor=user, customer=theirs, kind="custom", month=6, day=1, label="First order")
    everyone = anniversaries_on(user=user, date=dt.date(2026, 6, 1))
    assert {a.customer_id for a in everyone} == {mine.pk, theirs.pk}
    only_mine = anniversaries_on(user=user, date=dt.date(2026, 6, 1), owner_id=user.pk)
    assert [(a.customer_id, a.years) for a in only_mine] == [(mine.pk, 16)]


def test_archived_customers_have_no_anniversaries(user):
    customer = person(user, birth_date="1990-05-17")
    services.customer_set_status(actor=user, customer=customer, status="archived", expected_version=None)
    assert anniversaries_on(user=user, date=dt.date(2026, 5, 17)) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "wedding", "month": 2, "day": 30}, "day"),
        ({"kind": "wedding", "month": 13, "day": 1}, "month"),
        ({"kind": "wedding", "month": 2, "day": 29, "year": 2023}, "day"),
        ({"kind": "custom", "month": 1, "day": 1}, "label"),
        ({"kind": "birthday", "month": 1, "day": 1}, "kind"),
    ],
)
def test_bad_special_dates_are_refused(user, kwargs, field):
    customer = person(user)
    with pytest.raises(ValidationError) as err:
        services.special_date_add(actor=user, customer=customer, **kwargs)
    assert field in err.value.message_dict


def test_leap_day_without_year_is_allowed(user):
    customer = person(user)
    row = services.special_date_add(actor=user, customer=customer, kind="wedding", month=2, day=29)
    assert row.month_day == 229


def test_limited_lists_read_days_in_order_and_counts_can_stop_early(user):
    from kith.parties.selectors.anniversaries import anniversaries_count

    for i in range(4):
        person(user, given_name=f"Dec{i}", birth_date="1985-12-30")
    jan = person(user, given_name="Jan", birth_date="1980-01-02")
    archived = person(user, given_name="Gone", birth_date="1980-01-02")
    services.customer_set_status(actor=user, customer=archived, status="archived", expected_version=None)
    start = dt.date(2026, 12, 28)
    everything = anniversaries_upcoming(user=user, start=start, days=7)
    assert [a.display_name for a in everything][-1] == jan.display_name
    assert len(everything) == 5  # the archived customer is left out
    first = anniversaries_upcoming(user=user, start=start, days=7, limit=3)
    assert [a.date for a in first] == [dt.date(2026, 12, 30)] * 3
    assert anniversaries_upcoming(user=user, start=start, days=7, limit=50) == everything
    assert anniversaries_count(user=user, start=start, days=7) == 5
    assert anniversaries_count(user=user, start=start, days=7, cap=2) == 2
    assert anniversaries_count(user=user, start=dt.date(2027, 1, 2)) == 1
