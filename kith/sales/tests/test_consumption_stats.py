"""Consumption statistics: the counting rules, buckets, the previous period, groups and visibility, with
figures computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kith.parties.services import catalogues
from kith.parties.services import customers as customer_services
from kith.sales.selectors.consumption import (
    StatsQuery,
    bucket_starts,
    consumption_scope,
    consumption_stats,
    percentile,
    previous_range,
)
from kith.sales.services.consumption import consumption_add_many
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db
D = Decimal


def person(actor: Any, family_name: str, **extra: Any) -> Any:
    return customer_services.customer_create(
        actor=actor, kind="person", data={"family_name": family_name, "given_name": "Jo"}, **extra
    )


def row(customer: Any, day: str, sku: str, quantity: str, price: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer": customer.customer_number,
        "occurred_on": day,
        "sku": sku,
        "description": f"Item {sku}",
        "quantity": quantity,
        "unit_price": price,
        "currency": "GBP",
        **extra,
    }


@pytest.fixture
def world(user: Any) -> dict[str, Any]:
    """A (category Retail/Shops) buys in GBP, B (Retail) in EUR, C (Other) belongs to a rep below the
    manager."""
    tree = catalogues.category_tree_create(actor=None, data={"name": "Segment"})
    retail = catalogues.category_create(actor=None, tree=tree, name="Retail")
    shops = catalogues.category_create(actor=None, tree=tree, name="Shops", parent=retail)
    other = catalogues.category_create(actor=None, tree=tree, name="Other")
    rep = make_user("rep", "sales_rep", manager=user)
    a = person(user, "Able", category_ids=[shops.pk], tag_names=["vip"])
    b = person(user, "Baker", category_ids=[retail.pk])
    c = person(rep, "Cole", category_ids=[other.pk])
    consumption_add_many(
        actor=user,
        rows=[
            row(a, "2024-01-10", "X", "10", "2.00", reference="INV1"),
            row(a, "2024-01-10", "POST", "1", "5", kind="non_product", reference="INV1"),
            row(a, "2024-01-20", "X", "-2", "2.00", reference="C-INV1"),
            row(a, "2024-02-15", "Y", "3", "0", reference="INV2"),
            row(a, "2024-03-01", "X", "5", "3.00", reference="INV3"),
            row(a, "2023-11-05", "X", "4", "2.50", reference="OLD1"),
            row(a, "2024-04-01", "X", "100", "1", reference="LATER"),
            row(b, "2024-02-01", "X", "1", "4", currency="EUR", reference="B1"),
        ],
    )
    consumption_add_many(actor=rep, rows=[row(c, "2024-02-02", "Z", "2", "7.50", reference="C1")])
    return {"a": a, "b": b, "c": c, "rep": rep, "retail": retail, "shops": shops, "other": other}


def stats(user: Any, **params: Any) -> dict[str, Any]:
    params = {"from": "2024-01-01", "to": "2024-03-31", **params}
    query = StatsQuery.from_params(params)
    return consumption_stats(scope=consumption_scope(user=user, query=query), query=query)


def test_one_customer_revenue_rules_and_previous_period(user, world):
    result = stats(user, customer=world["a"].customer_number)
    assert (result["previous_from"], result["previous_to"]) == (dt.date(2023, 10, 1), dt.date(2023, 12, 31))
    [gbp] = result["totals"]
    # purchases 20 + 0 + 15, the return −4 subtracts, postage 5 apart, the April line outside the range
    assert gbp["currency"] == "GBP"
    assert (gbp["revenue"], gbp["purchases"], gbp["returns"], gbp["other_charges"]) == (
        D("31.00"),
        D("35.00"),
        D("-4.00"),
        D("5.00"),
    )
    assert gbp["quantity"] == D("16") and gbp["lines"] == 5  # 10 − 2 + 3 (zero price counts) + 5
    assert gbp["previous"]["revenue"] == D("10.00") and gbp["previous"]["quantity"] == D("4")
    assert gbp["change"]["revenue"] == {"absolute": D("21.00"), "percent": D("210.0")}
    assert gbp["change"]["lines"] == {"absolute": 4, "percent": D("400.0")}


def test_month_buckets_line_up_with_the_previous_period(user, world):
    result = stats(user, customer=world["a"].customer_number)
    starts = [(b["start"], b["previous_start"]) for b in result["buckets"]]
    assert starts == [
        (dt.date(2024, 1, 1), dt.date(2023, 10, 1)),
        (dt.date(2024, 2, 1), dt.date(2023, 11, 1)),
        (dt.date(2024, 3, 1), dt.date(2023, 12, 1)),
    ]
    cells = [b["currencies"]["GBP"] for b in result["buckets"]]
    assert [c["current"]["revenue"] for c in cells] == [D("16.00"), D("0.00"), D("15.00")]
    assert [c["current"]["other_charges"] for c in cells] == [D("5.00"), D("0.00"), D("0.00")]
    assert [c["current"]["quantity"] for c in cells] == [D("8"), D("3"), D("5")]
    assert [c["previous"]["revenue"] for c in cells] == [D("0.00"), D("10.00"), D("0.00")]


def test_week_day_and_quarter_buckets(user, world):
    weeks = stats(
        user, customer=world["a"].customer_number, period="week", **{"from": "2024-01-08", "to": "2024-01-21"}
    )
    assert [b["start"] for b in weeks["buckets"]] == [dt.date(2024, 1, 8), dt.date(2024, 1, 15)]
    assert [b["currencies"]["GBP"]["current"]["revenue"] for b in weeks["buckets"]] == [
        D("20.00"),
        D("-4.00"),
    ]
    days = stats(
        user, customer=world["a"].customer_number, period="day", **{"from": "2024-01-10", "to": "2024-01-10"}
    )
    assert days["totals"][0]["revenue"] == D("20.00") and days["totals"][0]["other_charges"] == D("5.00")
    quarters = stats(
        user,
        customer=world["a"].customer_number,
        period="quarter",
        **{"from": "2023-10-01", "to": "2024-03-31"},
    )
    assert [b["currencies"]["GBP"]["current"]["revenue"] for b in quarters["buckets"]] == [
        D("10.00"),
        D("31.00"),
    ]
    assert quarters["previous_from"] == dt.date(2023, 4, 1)


def test_top_products_frequency_and_price_ranges(user, world):
    result = stats(user, customer=world["a"].customer_number)
    top = [(r["sku"], r["amount"], r["quantity"], r["lines"]) for r in result["top_by_amount"]]
    assert top == [("X", D("31.00"), D("13"), 3), ("Y", D("0.00"), D("3"), 1)]
    assert [r["sku"] for r in result["top_by_quantity"]] == ["X", "Y"]
    frequency = result["frequency"]
    # purchases on 10 Jan, 15 Feb and 1 Mar (the return is no purchase): 51 days over two gaps
    assert frequency["purchase_days"] == 3 and frequency["invoices"] == 3 and frequency["customers"] == 1
    assert frequency["average_days_between"] == D("25.5")
    # X was bought at 2.00 and 3.00 (the return is left out); Y only at price zero: no range
    [x] = result["price_ranges"]
    assert (x["sku"], x["min"], x["p25"], x["median"], x["p75"], x["max"]) == (
        "X",
        D("2.00"),
        D("2.25"),
        D("2.50"),
        D("2.75"),
        D("3.00"),
    )


def test_percentile_matches_a_spreadsheet():
    histogram = [(D("1"), 1), (D("2"), 2), (D("10"), 1)]  # 1, 2, 2, 10
    assert percentile(histogram, D("0.5")) == D("2")
    assert percentile(histogram, D("0.25")) == D("1.75")
    assert percentile(histogram, D("0.75")) == D("4")


def test_group_by_category_takes_the_categories_below(user, world):
    result = stats(user, category=world["retail"].pk)
    assert {t["currency"]: t["revenue"] for t in result["totals"]} == {"GBP": D("31.00"), "EUR": D("4.00")}
    assert result["frequency"]["customers"] == 2
    only_shops = stats(user, category=world["shops"].pk)
    assert [t["currency"] for t in only_shops["totals"]] == ["GBP"]
    assert stats(user, tag="VIP")["totals"][0]["revenue"] == D("31.00")


def test_owner_with_or_without_subordinates(user, world):
    with_team = stats(user, owner=user.pk)
    assert {t["currency"]: t["revenue"] for t in with_team["totals"]} == {
        "GBP": D("46.00"),  # A's 31 and C's 15
        "EUR": D("4.00"),
    }
    alone = stats(user, owner=user.pk, subordinates="0")
    assert {t["currency"]: t["revenue"] for t in alone["totals"]} == {"GBP": D("31.00"), "EUR": D("4.00")}


def test_a_rep_sees_only_their_customers_figures(world):
    rep = world["rep"]
    assert stats(rep, category=world["retail"].pk)["totals"] == []
    assert stats(rep, category=world["other"].pk)["totals"][0]["revenue"] == D("15.00")
    with pytest.raises(ValidationError) as caught:
        stats(rep, customer=world["a"].customer_number)
    assert "customer" in caught.value.message_dict


def test_bad_parameters_are_field_errors():
    with pytest.raises(ValidationError) as caught:
        StatsQuery.from_params({"customer": "X", "category": "a", "period": "year", "from": "2024-13-01"})
    assert set(caught.value.message_dict) == {"category", "period", "from"}
    with pytest.raises(ValidationError) as caught:
        StatsQuery.from_params({"from": "2024-02-01", "to": "2024-01-01"})
    assert "to" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        StatsQuery.from_params({"period": "day", "from": "2020-01-01", "to": "2024-01-01"})
    assert "period" in caught.value.message_dict


def test_previous_range_and_bucket_starts():
    assert previous_range(dt.date(2024, 1, 10), dt.date(2024, 1, 19)) == (
        dt.date(2023, 12, 31),
        dt.date(2024, 1, 9),
    )
    assert previous_range(dt.date(2024, 3, 1), dt.date(2024, 3, 31)) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
    )
    assert bucket_starts(dt.date(2024, 2, 15), dt.date(2024, 5, 1), "quarter") == [
        dt.date(2024, 1, 1),
        dt.date(2024, 4, 1),
    ]


def test_the_statistics_take_a_fixed_number_of_queries(user, world, django_assert_num_queries):
    query = StatsQuery.from_params(
        {"customer": world["a"].customer_number, "from": "2024-01-01", "to": "2024-03-31"}
    )
    scope = consumption_scope(user=user, query=query)
    with django_assert_num_queries(2):  # one pass (figures and frequency), the top products' names
        consumption_stats(scope=scope, query=query)
    group = StatsQuery.from_params({"category": world["retail"].pk, "from": "2024-01-01", "to": "2024-03-31"})
    with django_assert_num_queries(3):  # + the category's branch
        consumption_stats(scope=consumption_scope(user=user, query=group), query=group)


# --- the pages (mounted in front of the project's routes until kith.sales.urls includes them) ------------

from kith.sales.models import ConsumptionLine  # noqa: E402


def test_the_page_shows_figures_chart_data_and_rules(client, user, world):
    client.force_login(user)
    response = client.get(
        "/sales/consumption/",
        {"customer": world["a"].customer_number, "from": "2024-01-01", "to": "2024-03-31"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "31.00" in page and "How the figures are counted" in page and 'id="consumption-data"' in page
    assert "kith/consumption.js" in page and "<script>" not in page
    chart = response.context["chart"]
    assert chart["labels"] == ["2024-01", "2024-02", "2024-03"] and chart["current"] == [
        "16.00",
        "0.00",
        "15.00",
    ]
    assert chart["previous"] == ["0.00", "10.00", "0.00"]
    group = client.get(
        "/sales/consumption/", {"category": world["retail"].pk, "from": "2024-01-01", "to": "2024-03-31"}
    )
    assert group.status_code == 200 and [t["currency"] for t in group.context["totals"]] == ["GBP", "EUR"]


def test_the_page_refuses_bad_input_and_hidden_customers(client, world):
    client.force_login(world["rep"])
    response = client.get("/sales/consumption/", {"customer": world["a"].customer_number})
    assert response.status_code == 400 and response.context["form"].errors["customer"]
    response = client.get("/sales/consumption/", {"customer": world["c"].customer_number, "period": "year"})
    assert response.status_code == 400 and response.context["stats"] is None


def test_a_line_entered_by_hand(client, user, world):
    client.force_login(user)
    assert client.get("/sales/consumption/add/", {"customer": world["a"].customer_number}).status_code == 200
    bad = client.post(
        "/sales/consumption/add/",
        {
            "customer": world["a"].customer_number,
            "occurred_on": "2024-05-01",
            "quantity": "2",
            "unit_price": "-3",
        },
    )
    assert bad.status_code == 400 and bad.context["form"].errors["unit_price"]
    count = ConsumptionLine.objects.count()
    good = client.post(
        "/sales/consumption/add/",
        {
            "customer": world["a"].customer_number,
            "occurred_on": "2024-05-01",
            "sku": "X",
            "quantity": "2",
            "unit_price": "3",
            "currency": "GBP",
        },
    )
    assert good.status_code == 302 and ConsumptionLine.objects.count() == count + 1
    added = ConsumptionLine.objects.latest("id")
    assert added.source == "manual" and added.amount == D("6.00")
    assert client.post(f"/sales/consumption/{added.pk}/delete/").status_code == 302
    assert ConsumptionLine.objects.count() == count


def test_the_customer_panel(client, user, world):
    client.force_login(user)
    ConsumptionLine.objects.filter(customer=world["a"]).update(occurred_on=dt.date.today())
    response = client.get("/sales/consumption/panel/", {"customer": world["a"].customer_number})
    assert response.status_code == 200 and "Consumption statistics" in response.content.decode()
    assert client.get("/sales/consumption/panel/").content == b""


def test_the_page_query_count_does_not_grow_with_lines(client, user, world, django_assert_max_num_queries):
    client.force_login(user)
    params = {"customer": world["a"].customer_number, "from": "2024-01-01", "to": "2024-03-31"}
    client.get("/sales/consumption/", params)  # warm the session and permission caches
    with django_assert_max_num_queries(14) as first:
        client.get("/sales/consumption/", params)
    consumption_add_many(
        actor=user,
        rows=[
            row(world["a"], f"2024-02-{day:02d}", f"S{day}", "1", "1.10", reference="MORE")
            for day in range(1, 29)
        ],
    )
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/sales/consumption/", params)


def test_with_nothing_asked_the_page_shows_the_readers_own_book(client, user, world):
    """No parameters: the reader's customers and their team's over the last twelve months."""
    today = timezone.localdate().isoformat()
    consumption_add_many(
        actor=world["rep"], rows=[row(world["c"], today, "Z", "3", "2.00", reference="NOW1")]
    )
    consumption_add_many(actor=user, rows=[row(world["a"], today, "X", "1", "10.00", reference="NOW2")])
    client.force_login(world["rep"])
    response = client.get("/sales/consumption/")
    assert response.status_code == 200
    assert response.context["form"]["owner"].value() == str(world["rep"].pk)
    assert [(t["currency"], t["revenue"]) for t in response.context["totals"]] == [("GBP", D("6.00"))]
    client.force_login(user)  # the manager: their own customer and the rep's
    response = client.get("/sales/consumption/")
    assert [(t["currency"], t["revenue"]) for t in response.context["totals"]] == [("GBP", D("16.00"))]
