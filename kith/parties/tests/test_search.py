"""The one search box and the list filters, on whichever engine the suite runs (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from kith.core import search
from kith.core.models import SearchWord
from kith.parties import services
from kith.parties.models import Customer
from kith.parties.selectors.search import CustomerFilters, customer_search
from kith.parties.services import catalogues
from kith.parties.services.search_index import bulk_loading, customer_name_index
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


def find(user, q="", limit=25, **params):
    page = customer_search(user=user, filters=CustomerFilters.from_params({"q": q, **params}), limit=limit)
    return [row["display_name"] for row in page.rows]


@pytest.fixture
def people(user, settings):
    settings.KITH_DEFAULT_REGION = "CN"
    return {
        "zhang": person(
            user,
            family_name="张",
            given_name="三",
            phones=[{"number": "+86 138-0013-8000", "label": "mobile"}],
            emails=[{"address": "Zhang.San@Example.CN"}],
        ),
        "smith": person(
            user, family_name="Smith", given_name="John", phones=[{"number": "+1 (555) 010-0200"}]
        ),
        "smythe": person(user, family_name="Smythe", given_name="Jane"),
        "acme": company(user, legal_name="Northwind Telecommunication Holdings"),
        "muller": company(user, legal_name="Müller Maschinenbau GmbH"),
    }


def test_by_customer_number_any_case(user, people):
    number = people["acme"].customer_number
    assert find(user, number) == [people["acme"].display_name]
    assert find(user, number.lower()) == [people["acme"].display_name]


@pytest.mark.parametrize("typed", ["13800138000", "+86 138-0013-8000", "8613800138000", "138 0013 8000"])
def test_by_phone_in_any_format(user, people, typed):
    assert find(user, typed) == ["张三"]


def test_by_us_phone_as_written(user, people, settings):
    settings.KITH_DEFAULT_REGION = "US"
    assert find(user, "(555) 010-0200") == ["John Smith"]


def test_by_email_case_insensitive(user, people):
    assert find(user, "zhang.san@example.cn") == ["张三"]
    assert find(user, "nobody@example.cn") == []


def test_by_name_prefix_and_substring(user, people):
    assert find(user, "North") == ["Northwind Telecommunication Holdings"]
    assert find(user, "telecommun") == ["Northwind Telecommunication Holdings"]  # middle of the name
    assert find(user, "Northwind Tele") == ["Northwind Telecommunication Holdings"]  # half a company name
    assert find(user, "smith john") == ["John Smith"]  # words in any order
    assert find(user, "muller") == ["Müller Maschinenbau GmbH"]  # accents folded
    assert find(user, "MÜLLER") == ["Müller Maschinenbau GmbH"]


def test_chinese_name_and_pinyin(user, people):
    assert find(user, "张三") == ["张三"]
    assert find(user, "张") == ["张三"]
    assert find(user, "zhang san") == ["张三"]
    assert find(user, "zhangsan") == ["张三"]
    assert find(user, "zs") == ["张三"]


def test_a_name_with_a_typo_is_still_found(user, people):
    page = customer_search(user=user, filters=CustomerFilters.from_params({"q": "Jonh Smiht"}))
    assert [r["display_name"] for r in page.rows] == ["John Smith"]
    assert page.corrected
    # correct spelling is not reported as corrected, and nonsense finds nothing
    assert not customer_search(user=user, filters=CustomerFilters.from_params({"q": "John Smith"})).corrected
    assert find(user, "Qqqqzzzz") == []


def test_index_follows_renames_and_deletes(user, people):
    acme = people["acme"]
    services.customer_update(
        actor=user,
        customer=acme,
        expected_version=acme.version,
        data={"legal_name": "Southwind Freight", "display_name": "Southwind"},
    )
    acme.refresh_from_db()
    assert find(user, "Northwind") == []
    assert find(user, "southwind") == ["Southwind"]
    services.customer_delete(actor=user, customer=acme)
    assert find(user, "southwind") == []


def test_special_characters_are_plain_text(user, people):
    for q in ['"', "%", "_", "a' OR 1=1 --", 'x" OR "y', "NEAR(", "*", "\\"]:
        assert find(user, q) == [], q


def test_filters_combine_with_search(user, django_user_model, people):
    other = make_user("other", "sales_rep", manager=user)  # reports to user: user sees theirs
    tree = catalogues.category_tree_create(actor=None, data={"name": "Industry"})
    telecom = catalogues.category_create(actor=None, tree=tree, name="Telecom")
    mobile = catalogues.category_create(actor=None, tree=tree, name="Mobile", parent=telecom)
    role = catalogues.role_create(actor=None, data={"code": "payer", "name": "Payer"})
    catalogues.custom_field_create(
        actor=None, data={"key": "employees", "label": "Employees", "field_type": "integer"}
    )
    acme = people["acme"]
    services.customer_update(
        actor=user,
        customer=acme,
        expected_version=acme.version,
        data={"owner": other.pk, "status": "active"},
        custom={"employees": 120},
        category_ids=[mobile.pk],
        tag_names=["VIP"],
        role_ids=[role.pk],
    )
    name = acme.display_name
    assert find(user, kind="company") == sorted([name, "Müller Maschinenbau GmbH"], key=str.casefold)
    assert find(user, "north", kind="person") == []
    assert find(user, status="active") == [name]
    assert find(user, owner=str(other.pk)) == [name]
    assert find(user, category=str(telecom.pk)) == [name]  # a branch includes its sub-categories
    assert find(user, category=str(mobile.pk)) == [name]
    assert find(user, tag="vip") == [name]
    assert find(user, role=str(role.pk)) == [name]
    assert find(user, cf_employees="120") == [name]
    assert find(user, cf_employees="121") == []
    today = timezone.localdate()
    assert len(find(user, created_from=today.isoformat())) == 5
    assert find(user, created_to=(today - dt.timedelta(days=1)).isoformat()) == []


@pytest.mark.parametrize(
    "params, key",
    [
        ({"kind": "robot"}, "kind"),
        ({"owner": "abc"}, "owner"),
        ({"created_from": "31/12/2025"}, "created_from"),
        ({"sort": "salary"}, "sort"),
        ({"owner": "²"}, "owner"),  # a digit to str.isdigit, not to int()
        ({"owner": "9" * 40}, "owner"),
        ({"cf_": "1"}, "cf_"),
        ({"cf_a__b": "1"}, "cf_a__b"),
    ],
)
def test_bad_filter_values_are_field_errors(params, key):
    with pytest.raises(ValidationError) as err:
        CustomerFilters.from_params(params)
    assert key in err.value.message_dict


def test_unknown_or_invalid_custom_filter_is_a_field_error(user, people):
    catalogues.custom_field_create(actor=None, data={"key": "since", "label": "Since", "field_type": "date"})
    for params, key in (({"cf_nope": "1"}, "cf_nope"), ({"cf_since": "yesterday"}, "cf_since")):
        with pytest.raises(ValidationError) as err:
            customer_search(user=user, filters=CustomerFilters.from_params(params))
        assert key in err.value.message_dict


@pytest.mark.parametrize("sort", ["name", "-name", "number", "-created", "updated"])
def test_cursor_pages_cover_everything_once_in_order(user, sort):
    for i in range(23):
        person(user, family_name=f"Page{i % 7}", given_name=f"Tester{i:02d}")
    seen: list[int] = []
    cursor = None
    filters = CustomerFilters.from_params({"sort": sort, "q": "tester"})
    while True:
        page = customer_search(user=user, filters=filters, cursor=cursor, limit=5)
        seen += [r["id"] for r in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 23 and len(set(seen)) == 23
    whole = customer_search(user=user, filters=filters, limit=100)
    assert seen == [r["id"] for r in whole.rows]


def test_merged_branches_keep_the_order_and_pages(user):
    # "lin" matches names containing it and pinyin starting with it: two branches merged into one order
    for family, given in [
        ("林", "一"),
        ("Lindqvist", "Anna"),
        ("林", "二"),
        ("Berlin", "Max"),
        ("Colin", "Ray"),
    ]:
        person(user, family_name=family, given_name=given)
    names = find(user, "lin", limit=100, sort="name")
    assert sorted(names, key=lambda n: Customer.objects.get(display_name=n).search_name) == names
    assert set(names) == {"林一", "林二", "Anna Lindqvist", "Max Berlin", "Ray Colin"}
    paged: list[str] = []
    cursor = None
    while True:
        page = customer_search(
            user=user,
            filters=CustomerFilters.from_params({"q": "lin", "sort": "name"}),
            cursor=cursor,
            limit=2,
        )
        paged += [r["display_name"] for r in page.rows]
        if not (cursor := page.next_cursor):
            break
    assert paged == names


def test_bad_cursor_is_a_field_error(user):
    import base64

    import orjson

    forged = [
        base64.urlsafe_b64encode(orjson.dumps({"k": values})).decode()
        for values in ([1, 2], ["a", "b"], [None, 1], ["x", "2024"], [{"a": 1}, 1])
    ]
    for cursor in ["garbage", "e30=", "W10=", *forged]:
        with pytest.raises(ValidationError) as err:
            customer_search(user=user, filters=CustomerFilters(), cursor=cursor)
        assert "cursor" in err.value.message_dict


def test_total_when_asked(user, people):
    page = customer_search(user=user, filters=CustomerFilters.from_params({"q": "smith"}), with_total=True)
    assert page.total == 1
    assert customer_search(user=user, filters=CustomerFilters()).total is None


def test_rows_carry_primary_contacts(user, people):
    page = customer_search(user=user, filters=CustomerFilters.from_params({"q": "张三"}))
    assert page.rows[0]["primary_phone"] == "+8613800138000"
    assert page.rows[0]["primary_email"] == "Zhang.San@example.cn"


def test_bulk_loading_pauses_and_rebuilds_the_index(user, admin_user):
    # bulk-loaded rows have no owner: only administrators see them
    person(user, family_name="Before", given_name="Load")
    with bulk_loading():
        Customer.objects.bulk_create(
            [
                Customer(
                    kind="person",
                    customer_number=f"BULK{i}",
                    display_name=f"Bulkington {i}",
                    search_name=f"bulkington {i}",
                )
                for i in range(3)
            ]
        )
    assert len(find(admin_user, "ulkingto")) == 3
    assert find(admin_user, "before") == ["Load Before"]
    assert SearchWord.objects.filter(scope="customer.name", word="bulkington", uses=3).exists()
    # single saves keep working afterwards (triggers are back)
    person(user, family_name="Afterwards", given_name="Single")
    assert find(admin_user, "afterward") == ["Single Afterwards"]


def test_suggestions_prefer_fewest_edits_then_most_used():
    index = customer_name_index()
    search.add_words(index, ["johnson johnston jonas"])
    SearchWord.objects.filter(word="johnston").update(uses=50)
    assert search.suggest_words(index, "jonhson")[0] == "johnson"  # one swap
    assert search.suggest_words(index, "abc") == []  # too short to correct


def test_engine_specific_index_upkeep(user, admin_user):
    """SQLite: lost triggers come back after migrate; PostgreSQL: a trigram GIN index and code-point order.

    Searched as an administrator: a reader who sees only a few customers has them tested one by one,
    without the text index."""
    if connection.vendor == "sqlite":
        index = customer_name_index()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TRIGGER "{index.fts_table}_ai"')
        person(user, family_name="Lost", given_name="Trigger")
        assert find(admin_user, "lost trigger") == []  # the index missed the insert
        assert find(user, "lost trigger") == ["Trigger Lost"]  # their own few: tested without the index
        search.ensure_indexes()
        assert find(admin_user, "lost trigger") == ["Trigger Lost"]
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'parties_customer_search_name_trgm'"
        )
        assert "gin_trgm_ops" in cursor.fetchone()[0]
        for column in ("search_name", "search_pinyin", "search_initials"):
            cursor.execute(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'parties_customer' AND column_name = %s",
                [column],
            )
            assert cursor.fetchone()[0] == "C", column


def test_broad_matches_walk_the_order_with_the_same_result(user, admin_user, monkeypatch):
    for i in range(6):
        person(user, family_name=f"Walker{i}", given_name="Anna")
    person(user, family_name="Other", given_name="Bob")
    narrow = find(admin_user, "walker", sort="name")
    monkeypatch.setattr(search, "BROAD", 3)  # every match set of 3+ rows now counts as broad
    assert find(admin_user, "walker", sort="name") == narrow == [f"Anna Walker{i}" for i in range(6)]
    assert find(admin_user, "anna walk", limit=2, sort="name") == narrow[:2]


def test_searching_defaults_to_newest_first_through_filters(user):
    made = [person(user, family_name=f"Streamer{i}", given_name="Ann") for i in range(9)]
    for customer in made[::3]:
        services.customer_set_status(actor=user, customer=customer, status="active", expected_version=None)
    newest_first = [c.display_name for c in reversed(made)]
    assert find(user, "streamer") == newest_first
    assert find(user, "ann streamer", limit=4) == newest_first[:4]  # the short word checked per row
    assert find(user, "streamer", status="active") == [c.display_name for c in reversed(made[::3])]
    assert find(user, "streamer", sort="created") == [c.display_name for c in made]
    paged, cursor = [], None
    while True:
        page = customer_search(
            user=user, filters=CustomerFilters.from_params({"q": "streamer"}), cursor=cursor, limit=2
        )
        paged += [r["display_name"] for r in page.rows]
        if not (cursor := page.next_cursor):
            break
    assert paged == newest_first
