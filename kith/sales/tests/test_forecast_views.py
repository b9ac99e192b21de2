"""Forecast pages: the forecast with its chart data (no inline script), the subject and period pickers with
their errors, the funnel, the leaderboard, the target pages (create, edit with conflicts, delete), who sees
what, and query counts that do not grow with the data."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from kith.sales.models import SalesTarget
from kith.sales.services import targets as target_services
from kith.sales.tests import test_forecast as base

pytestmark = pytest.mark.django_db

# the selector tests' organisation, June and funnel history
org, june, funnel_deals = base.org, base.june, base.funnel_deals

JUNE = {"period": "custom", "date_from": "2026-06-01", "date_to": "2026-06-30", "currency": "EUR"}


def chart_data(content: bytes) -> dict:  # type: ignore[type-arg]
    found = re.search(rb'<script id="forecast-data" type="application/json">(.*?)</script>', content, re.S)
    assert found, "the chart data is missing"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def inline_scripts(content: bytes) -> list[bytes]:
    """<script> elements with code in them (JSON data islands and src= files are fine)."""
    return list(re.findall(rb'<script(?![^>]*(?:\bsrc=|type="application/json"))[^>]*>\s*\S', content))


def test_the_reps_forecast_page(client, june) -> None:  # type: ignore[no-untyped-def]
    client.force_login(june["rep"])
    response = client.get(reverse("sales:forecast"), JUNE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "1000.00 EUR" in page  # won
    assert "950.00 EUR" in page  # weighted: 2,000 × 25 % + 1,000 USD × 0.9 × 50 %
    assert "1950.00 EUR" in page  # forecast
    assert "1050.00 EUR" in page  # gap to a 3,000 target
    assert "GBP" in page and "700.00 GBP" in page  # no GBP rate: reported, not dropped
    data = chart_data(response.content)
    assert (data["won"], data["weighted"], data["target"], data["currency"]) == (
        "1000.00",
        "950.00",
        "3000.00",
        "EUR",
    )
    assert data["run_rate"] == "1000.00"  # the period is over: the run-rate is what was won
    assert inline_scripts(response.content) == []
    assert b"kith/forecast.js" in response.content and b"vendor/chart-4.6.1.umd.min.js" in response.content


def test_the_default_page_is_this_month(client, june) -> None:  # type: ignore[no-untyped-def]
    client.force_login(june["rep"])
    response = client.get(reverse("sales:forecast"))
    assert response.status_code == 200
    assert b"forecast-data" in response.content
    for period in ("month", "quarter", "year"):
        assert client.get(reverse("sales:forecast"), {"period": period}).status_code == 200


def test_subject_picker_and_visibility(client, june) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer, north = june["boss"], june["rep"], june["peer"], june["north"]
    client.force_login(boss)
    picker = client.get(reverse("sales:forecast")).content.decode()
    assert f'value="u{rep.pk}"' in picker and f'value="t{north.pk}"' in picker
    of_rep = client.get(reverse("sales:forecast"), JUNE | {"subject": f"u{rep.pk}"})
    assert of_rep.status_code == 200 and chart_data(of_rep.content)["won"] == "1000.00"
    set_target = f"{reverse('sales:target_create')}?subject=u{rep.pk}"
    assert set_target in of_rep.content.decode()
    assert f'<option value="u{rep.pk}" selected>' in client.get(set_target).content.decode()
    of_team = client.get(reverse("sales:forecast"), JUNE | {"subject": f"t{north.pk}"})
    assert of_team.status_code == 200
    assert chart_data(of_team.content)["target"] == "3296.70"
    assert "3000.00 EUR" in of_team.content.decode()  # the members' own targets, shown apart
    client.force_login(peer)
    picker = client.get(reverse("sales:forecast")).content.decode()
    assert f'value="u{rep.pk}"' not in picker and f'value="t{north.pk}"' not in picker
    refused = client.get(reverse("sales:forecast"), JUNE | {"subject": f"u{rep.pk}"})
    assert refused.status_code == 400 and b"forecast-data" not in refused.content
    assert b"1000.00 EUR" not in refused.content


def test_period_errors(client, june) -> None:  # type: ignore[no-untyped-def]
    client.force_login(june["rep"])
    backwards = client.get(
        reverse("sales:forecast"), {"period": "custom", "date_from": "2026-06-30", "date_to": "2026-06-01"}
    )
    assert backwards.status_code == 400 and "The period ends before it starts." in backwards.content.decode()
    missing = client.get(reverse("sales:forecast"), {"period": "custom", "date_from": "2026-06-01"})
    assert missing.status_code == 400 and "Give the last day of the period." in missing.content.decode()
    garbage = client.get(
        reverse("sales:forecast"), {"period": "custom", "date_from": "June", "date_to": "2026-06-01"}
    )
    assert garbage.status_code == 400
    currency = client.get(reverse("sales:forecast"), JUNE | {"currency": "XXX"})
    assert currency.status_code == 400
    for name in ("sales:funnel", "sales:leaderboard"):
        assert client.get(reverse(name), {"period": "fortnight"}).status_code == 400


def test_funnel_page(client, funnel_deals) -> None:  # type: ignore[no-untyped-def]
    client.force_login(funnel_deals["rep"])
    response = client.get(
        reverse("sales:funnel"), {"period": "custom", "date_from": "2026-06-01", "date_to": "2026-06-30"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "75.0 %" in page and "33.3 %" in page  # Qualification -> on, Needs analysis -> on
    assert "2 h 0 min" in page and "1 h 0 min" in page  # Qualification: average 2 h, median 1 h
    assert "18 h 0 min" in page  # Needs analysis: 64,800 s
    assert "50.0 %" in page  # win rate
    assert inline_scripts(response.content) == []
    client.force_login(funnel_deals["peer"])
    other = client.get(
        reverse("sales:funnel"), {"period": "custom", "date_from": "2026-06-01", "date_to": "2026-06-30"}
    )
    assert "75.0 %" not in other.content.decode()


def test_leaderboard_page(client, june) -> None:  # type: ignore[no-untyped-def]
    client.force_login(june["boss"])
    page = client.get(reverse("sales:leaderboard"), JUNE).content.decode()
    page = page[page.index("<tbody>") :]
    assert page.index("Pete Peer") < page.index("Rita Rep") < page.index("Bea Boss")
    assert "5000.00" in page and "33.3 %" in page
    # each name links to that person's forecast (one's own: "me"), and the link works
    links = re.findall(r'href="(/sales/forecast/\?[^"]*)"', page)
    assert len(links) == 3
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
    client.force_login(june["rep"])
    page = client.get(reverse("sales:leaderboard"), JUNE).content.decode()
    assert "Rita Rep" in page and "Pete Peer" not in page and "5000.00" not in page


def test_target_pages(client, june) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer = june["boss"], june["rep"], june["peer"]
    client.force_login(boss)
    assert client.get(reverse("sales:target_list")).status_code == 200
    assert client.get(reverse("sales:target_create")).status_code == 200
    bad = client.post(
        reverse("sales:target_create"),
        {
            "subject": f"u{peer.pk}",
            "period_start": "2026-06-30",
            "period_end": "2026-06-01",
            "amount": "10.001",
            "currency": "EUR",
        },
    )
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "The period ends before it starts." in page and "At most 2 decimal places for EUR." in page
    overlap = client.post(
        reverse("sales:target_create"),
        {
            "subject": f"u{rep.pk}",
            "period_start": "2026-06-15",
            "period_end": "2026-07-15",
            "amount": "100",
            "currency": "EUR",
        },
    )
    assert overlap.status_code == 400 and "overlaps the target" in overlap.content.decode()
    no_subject = client.post(
        reverse("sales:target_create"),
        {
            "subject": "",
            "period_start": "2026-07-01",
            "period_end": "2026-07-31",
            "amount": "100",
            "currency": "EUR",
        },
    )
    assert no_subject.status_code == 400 and "Choose the person or the team" in no_subject.content.decode()
    created = client.post(
        reverse("sales:target_create"),
        {
            "subject": f"u{peer.pk}",
            "period_start": "2026-07-01",
            "period_end": "2026-07-31",
            "amount": "4000",
            "currency": "EUR",
        },
    )
    assert created.status_code == 302
    target = SalesTarget.objects.get(user=peer)
    edit = reverse("sales:target_edit", args=[target.pk])
    assert client.get(edit).status_code == 200
    saved = client.post(
        edit,
        {
            "period_start": "2026-07-01",
            "period_end": "2026-07-31",
            "amount": "4500",
            "currency": "EUR",
            "version": 1,
        },
    )
    assert saved.status_code == 302
    stale = client.post(
        edit,
        {
            "period_start": "2026-07-01",
            "period_end": "2026-07-31",
            "amount": "1",
            "currency": "EUR",
            "version": 1,
        },
    )
    assert stale.status_code == 409 and "Someone else changed this target" in stale.content.decode()
    target.refresh_from_db()
    assert str(target.amount) == "4500.00"
    delete = reverse("sales:target_delete", args=[target.pk])
    assert client.get(delete).status_code == 200
    assert client.post(delete).status_code == 302
    assert not SalesTarget.objects.filter(pk=target.pk).exists()


def test_a_rep_cannot_set_targets(client, june) -> None:  # type: ignore[no-untyped-def]
    rep, peer = june["rep"], june["peer"]
    target = SalesTarget.objects.get(user=rep)
    client.force_login(rep)
    listing = client.get(reverse("sales:target_list")).content.decode()
    assert "3000.00 EUR" in listing and reverse("sales:target_edit", args=[target.pk]) not in listing
    assert client.get(reverse("sales:target_edit", args=[target.pk])).status_code == 403
    assert client.post(reverse("sales:target_delete", args=[target.pk])).status_code == 403
    response = client.post(
        reverse("sales:target_create"),
        {
            "subject": f"u{peer.pk}",
            "period_start": "2026-07-01",
            "period_end": "2026-07-31",
            "amount": "1",
            "currency": "EUR",
        },
    )
    assert response.status_code == 400  # not a choice they have
    assert not SalesTarget.objects.filter(user=peer).exists()
    client.force_login(peer)
    assert "3000.00 EUR" not in client.get(reverse("sales:target_list")).content.decode()
    assert client.get(reverse("sales:target_edit", args=[target.pk])).status_code == 404


def test_pages_need_the_opportunity_permission(client) -> None:  # type: ignore[no-untyped-def]
    from kith.security.testing import make_user

    client.force_login(make_user("nobody"))
    for name in (
        "sales:forecast",
        "sales:funnel",
        "sales:leaderboard",
        "sales:target_list",
        "sales:target_create",
    ):
        assert client.get(reverse(name)).status_code == 403, name


def test_query_counts_do_not_grow(client, june, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    boss, rep = june["boss"], june["rep"]
    client.force_login(boss)
    pages = [
        (reverse("sales:forecast"), JUNE | {"subject": f"t{june['north'].pk}"}),
        (reverse("sales:funnel"), JUNE),
        (reverse("sales:leaderboard"), JUNE),
        (reverse("sales:target_list"), {}),
    ]
    counts = []
    for url, params in pages:
        client.get(url, params)
        with django_assert_max_num_queries(20) as captured:  # 15, 7, 9 and 6 when written
            assert client.get(url, params).status_code == 200
        counts.append(len(captured))
    for i in range(8):
        base.deal(rep, "10.00", expected_close_date="2026-06-22", name=f"More {i}")
        target_services.target_create(
            actor=None,
            data={
                "user": rep,
                "period_start": f"2027-{i + 1:02d}-01",
                "period_end": f"2027-{i + 1:02d}-28",
                "amount": "5",
                "currency": "EUR",
            },
        )
    for (url, params), before in zip(pages, counts, strict=True):
        with django_assert_max_num_queries(before) as captured:
            assert client.get(url, params).status_code == 200


def test_dates_edited_away_from_the_preset_make_a_custom_period(client, june) -> None:  # type: ignore[no-untyped-def]
    from kith.sales.selectors.forecast import period_of

    client.force_login(june["rep"])
    start, end = period_of("month")
    shown = client.get(reverse("sales:forecast")).content.decode()
    assert f'value="{start.isoformat()}"' in shown and f'value="{end.isoformat()}"' in shown
    # the picker still says "this month", the dates say June: June it is
    response = client.get(
        reverse("sales:forecast"),
        {"period": "month", "date_from": "2026-06-01", "date_to": "2026-06-30", "currency": "EUR"},
    )
    assert response.status_code == 200
    assert chart_data(response.content)["won"] == "1000.00"
    assert '<option value="custom" selected>' in response.content.decode()
    # the preset's own dates keep the preset
    same = client.get(
        reverse("sales:forecast"),
        {"period": "month", "date_from": start.isoformat(), "date_to": end.isoformat()},
    )
    assert '<option value="month" selected>' in same.content.decode()
