"""The forecast API: /forecast/, /funnel/, /leaderboard/ with figures computed by hand, visibility and
bad input; /targets/ create, read, patch with conflicts, delete and field errors; the token area and the
schema."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.sales.models import SalesTarget
from kith.sales.tests import test_forecast as base

pytestmark = pytest.mark.django_db

# the selector tests' organisation, June and funnel history
org, june, funnel_deals = base.org, base.june, base.funnel_deals

JUNE = {"date_from": "2026-06-01", "date_to": "2026-06-30", "currency": "EUR"}


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_forecast(june) -> None:  # type: ignore[no-untyped-def]
    rep = june["rep"]
    response = client_for(rep).get("/api/v1/forecast/", JUNE)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["subject_kind"] == "user" and data["subject_id"] == rep.pk
    assert (data["won"], data["weighted_pipeline"], data["forecast"]) == ("1000.00", "950.00", "1950.00")
    assert (data["target"], data["gap_to_target"], data["attainment"]) == ("3000.00", "1050.00", "33.3")
    assert data["won_count"] == 2 and data["open_count"] == 2 and data["open_pipeline"] == "2900.00"
    assert data["unconverted"] == [{"currency": "GBP", "amounts": {"won": "700.00"}}]
    assert data["members_target"] is None


def test_forecast_of_a_team_and_visibility(june) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer, north = june["boss"], june["rep"], june["peer"], june["north"]
    team = client_for(boss).get("/api/v1/forecast/", JUNE | {"team": north.pk}).json()
    assert (team["subject_kind"], team["target"], team["members_target"]) == ("team", "3296.70", "3000.00")
    assert client_for(boss).get("/api/v1/forecast/", JUNE | {"user": rep.pk}).json()["won"] == "1000.00"
    refused = client_for(peer).get("/api/v1/forecast/", JUNE | {"user": rep.pk})
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"user"}
    refused = client_for(rep).get("/api/v1/forecast/", JUNE | {"team": north.pk})
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"team"}


def test_forecast_bad_input(june) -> None:  # type: ignore[no-untyped-def]
    api = client_for(june["rep"])
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"date_from": "2026-06-30", "date_to": "2026-06-01"}, {"date_to"}),
        ({"date_from": "2026-06-01"}, {"date_to"}),
        ({"date_from": "yesterday", "date_to": "2026-06-01"}, {"date_from"}),
        ({"period": "fortnight"}, {"period"}),
        ({"period": "month", "date_from": "2026-06-01"}, {"period"}),
        ({"currency": "EURO"}, {"currency"}),
        ({"user": "abc"}, {"user"}),
        ({"user": 1, "team": 1}, {"team"}),
        ({"date_from": "2000-01-01", "date_to": "2026-01-01"}, {"date_to"}),
    ]
    for params, fields in cases:
        response = api.get("/api/v1/forecast/", params)
        assert response.status_code == 400, params
        assert set(response.json()["errors"]) == fields, params
    assert api.get("/api/v1/forecast/", {"period": "quarter"}).status_code == 200
    assert api.get("/api/v1/forecast/").status_code == 200


def test_funnel(funnel_deals) -> None:  # type: ignore[no-untyped-def]
    response = client_for(funnel_deals["rep"]).get(
        "/api/v1/funnel/", {"date_from": "2026-06-01", "date_to": "2026-06-30"}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    stages = {s["name"]: s for s in data["stages"]}
    assert [s["entered"] for s in data["stages"]] == [4, 3, 1, 0, 1, 1]
    assert stages["Qualification"]["conversion"] == "75.0" and stages["Qualification"]["advanced"] == 3
    assert (stages["Qualification"]["average_seconds"], stages["Qualification"]["median_seconds"]) == (
        7200,
        3600,
    )
    assert stages["Won"]["conversion"] is None
    assert (data["won"], data["lost"], data["win_rate"], data["overall"]) == (1, 1, "50.0", "25.0")
    assert client_for(funnel_deals["rep"]).get("/api/v1/funnel/", {"pipeline": 999999}).status_code == 400
    peer = client_for(funnel_deals["peer"]).get(
        "/api/v1/funnel/", {"date_from": "2026-06-01", "date_to": "2026-06-30"}
    )
    assert [s["entered"] for s in peer.json()["stages"]] == [0, 0, 0, 0, 0, 0]


def test_leaderboard(june) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer = june["boss"], june["rep"], june["peer"]
    data = client_for(boss).get("/api/v1/leaderboard/", JUNE).json()
    assert [r["user_id"] for r in data["results"]] == [peer.pk, rep.pk, boss.pk]
    assert data["missing_rates"] == ["GBP"]
    second = data["results"][1]
    assert (second["won"], second["win_rate"], second["target"], second["attainment"]) == (
        "1000.00",
        "100.0",
        "3000.00",
        "33.3",
    )
    mine = client_for(rep).get("/api/v1/leaderboard/", JUNE).json()
    assert [r["user_id"] for r in mine["results"]] == [rep.pk]


def test_targets_crud(june) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer = june["boss"], june["rep"], june["peer"]
    api = client_for(boss)
    created = api.post(
        "/api/v1/targets/",
        {
            "user": peer.pk,
            "period_start": "2026-07-01",
            "period_end": "2026-09-30",
            "amount": "9000",
            "currency": "eur",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    target = created.json()
    assert (target["user"], target["team"], target["amount"], target["currency"], target["version"]) == (
        peer.pk,
        None,
        "9000.00",
        "EUR",
        1,
    )
    url = f"/api/v1/targets/{target['id']}/"
    assert api.get(url).json()["subject"] == "Pete Peer"
    changed = api.patch(url, {"amount": "9500.50", "expected_version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(url, {"amount": "1", "expected_version": 1}, format="json")
    assert stale.status_code == 409
    assert client_for(rep).get(url).status_code == 404  # a peer's target
    assert client_for(peer).patch(url, {"amount": "1"}, format="json").status_code == 403  # their own
    listing = api.get("/api/v1/targets/", {"user": peer.pk}).json()
    assert listing["count"] == 1 and listing["results"][0]["amount"] == "9500.50"
    assert api.get("/api/v1/targets/", {"date_from": "2026-10-01"}).json()["count"] == 0
    assert api.delete(url).status_code == 204
    assert not SalesTarget.objects.filter(pk=target["id"]).exists()


def test_target_field_errors(june) -> None:  # type: ignore[no-untyped-def]
    boss, rep = june["boss"], june["rep"]
    api = client_for(boss)
    response = api.post(
        "/api/v1/targets/",
        {
            "user": rep.pk,
            "period_start": "2026-09-30",
            "period_end": "2026-07-01",
            "amount": "10.999",
            "currency": "EUR",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"period_end", "amount"}
    overlap = api.post(
        "/api/v1/targets/",
        {
            "user": rep.pk,
            "period_start": "2026-06-10",
            "period_end": "2026-06-20",
            "amount": "10",
            "currency": "EUR",
        },
        format="json",
    )
    assert overlap.status_code == 400 and set(overlap.json()["errors"]) == {"period_start"}
    unknown = api.post("/api/v1/targets/", {"user": rep.pk, "colour": "red"}, format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()["errors"]
    assert SalesTarget.objects.count() == 2  # the fixture's


def test_without_the_opportunity_permission(db) -> None:  # type: ignore[no-untyped-def]
    from kith.security.testing import make_user

    api = client_for(make_user("nobody"))
    for url in ("/api/v1/forecast/", "/api/v1/funnel/", "/api/v1/leaderboard/", "/api/v1/targets/"):
        assert api.get(url).status_code == 403, url
    created = api.post(
        "/api/v1/targets/",
        {
            "user": 1,
            "period_start": "2026-07-01",
            "period_end": "2026-07-31",
            "amount": "1",
            "currency": "EUR",
        },
        format="json",
    )
    assert created.status_code == 403 and not SalesTarget.objects.exists()


def test_token_area_is_sales(june) -> None:  # type: ignore[no-untyped-def]
    from kith.sales.api import forecast as views
    from kith.security import tokens

    for view in (
        views.ForecastView,
        views.FunnelView,
        views.LeaderboardView,
        views.TargetListView,
        views.TargetDetailView,
    ):
        assert tokens.needed_scope(view(), "GET") == "sales:read"
    assert tokens.needed_scope(views.TargetListView(), "POST") == "sales:write"


def test_schema_is_valid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/forecast/",
        "/api/v1/funnel/",
        "/api/v1/leaderboard/",
        "/api/v1/targets/",
        "/api/v1/targets/{id}/",
    ):
        assert f"  {path}:" in schema, path
    for operation in ("forecast_retrieve", "funnel_retrieve", "leaderboard_list", "targets_partial_update"):
        assert f"operationId: {operation}" in schema
