"""Opportunity pages: visibility, the board (cards, the "Move to" form, JSON moves from drag and drop,
query counts), create/edit with field errors and conflicts, approvals, pipeline administration."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from kith.sales.models import Approval, Opportunity, Stage
from kith.sales.services import approvals as approval_services
from kith.sales.tests import opportunity_factories as f
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    boss = make_user("boss", "sales_manager")
    rep = make_user("rep", "sales_rep", manager=boss)
    peer = make_user("peer", "sales_rep", manager=boss)
    return boss, rep, peer


def test_pages_render_for_the_owner(client, team) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    deal = f.opportunity(rep, name="Fibre upgrade")
    client.force_login(rep)
    for name, args in (
        ("sales:opportunity_list", []),
        ("sales:opportunity_board", []),
        ("sales:opportunity_detail", [deal.pk]),
        ("sales:opportunity_edit", [deal.pk]),
        ("sales:opportunity_create", []),
        ("sales:approval_list", []),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
    assert b"Fibre upgrade" in client.get(reverse("sales:opportunity_board")).content


def test_visibility_owner_manager_peer(client, team) -> None:  # type: ignore[no-untyped-def]
    boss, rep, peer = team
    deal = f.opportunity(rep, name="Rep's deal")
    url = reverse("sales:opportunity_detail", args=[deal.pk])
    client.force_login(boss)
    assert client.get(url).status_code == 200
    assert b"Rep&#x27;s deal" in client.get(reverse("sales:opportunity_list")).content
    client.force_login(peer)
    assert client.get(url).status_code == 404
    assert b"Rep&#x27;s deal" not in client.get(reverse("sales:opportunity_list")).content
    assert b"Rep&#x27;s deal" not in client.get(reverse("sales:opportunity_board")).content
    response = client.post(
        reverse("sales:opportunity_move", args=[deal.pk]),
        {"stage": f.stage("Needs analysis").pk, "version": 1},
    )
    assert response.status_code == 404


def test_create_from_a_customer_and_field_errors(client, team) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    customer = f.customer(owner=rep)
    client.force_login(rep)
    page = client.get(reverse("sales:opportunity_create") + f"?customer={customer.customer_number}")
    assert customer.customer_number.encode() in page.content
    bad = client.post(
        reverse("sales:opportunity_create"),
        {
            "customer": customer.customer_number,
            "name": "Deal",
            "amount": "-1",
            "currency": "EUR",
            "discount_percent": "101",
        },
    )
    assert bad.status_code == 400
    assert bad.context["form"].errors.keys() >= {"amount", "discount_percent"}
    cents = client.post(
        reverse("sales:opportunity_create"),
        {"customer": customer.customer_number, "name": "Deal", "amount": "1.005", "currency": "EUR"},
    )
    assert cents.status_code == 400 and "amount" in cents.context["form"].errors
    assert not Opportunity.objects.exists()
    good = client.post(
        reverse("sales:opportunity_create"),
        {"customer": customer.customer_number, "name": "Deal", "amount": "99.90", "currency": "EUR"},
    )
    deal = Opportunity.objects.get()
    assert good.status_code == 302 and deal.owner == rep and deal.amount == Decimal("99.90")


def test_edit_with_a_stale_version_shows_the_conflict(client, team) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    deal = f.opportunity(rep)
    client.force_login(rep)
    data = {
        "customer": deal.customer.customer_number,
        "name": "Renamed",
        "amount": "5",
        "currency": "EUR",
        "version": 1,
    }
    assert client.post(reverse("sales:opportunity_edit", args=[deal.pk]), data).status_code == 302
    again = client.post(reverse("sales:opportunity_edit", args=[deal.pk]), {**data, "name": "Other"})
    assert again.status_code == 409
    assert "changed this deal" in str(again.context["form"].non_field_errors())
    assert Opportunity.objects.get().name == "Renamed"


def test_board_query_count_does_not_grow(client, team, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    customer = f.customer(owner=rep)
    for n in range(12):
        f.opportunity(rep, customer=customer, name=f"Deal {n}", amount=str(n))
    client.force_login(rep)
    client.get(reverse("sales:opportunity_board"))  # warm the caches of the session and permissions
    # the user, the permissions' generation, pipelines, stages, counts and sums, cards
    with django_assert_max_num_queries(6):
        response = client.get(reverse("sales:opportunity_board"))
    assert response.content.count(b'class="board-card"') == 12


def test_list_query_count_does_not_grow(client, team, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    customer = f.customer(owner=rep)
    for n in range(12):
        f.opportunity(rep, customer=customer, name=f"Deal {n}")
    client.force_login(rep)
    client.get(reverse("sales:opportunity_list"))
    # the user, the permissions' generation, the filter form's choices (3), the count, the page
    with django_assert_max_num_queries(7):
        response = client.get(reverse("sales:opportunity_list"))
    assert response.content.count(b"Deal ") >= 12


def test_move_form_without_javascript_and_json_move(client, team) -> None:  # type: ignore[no-untyped-def]
    _boss, rep, _peer = team
    deal = f.opportunity(rep)
    client.force_login(rep)
    board = reverse("sales:opportunity_board")
    response = client.post(
        reverse("sales:opportunity_move", args=[deal.pk]),
        {"stage": f.stage("Needs analysis").pk, "version": 1, "next": board},
    )
    assert response.status_code == 302 and response["Location"] == board
    deal.refresh_from_db()
    assert deal.stage.name == "Needs analysis"
    stale = client.post(
        reverse("sales:opportunity_move", args=[deal.pk]),
        {"stage": f.stage("Qualification").pk, "version": 1},
        HTTP_ACCEPT="application/json",
    )
    assert stale.status_code == 409 and stale.json()["ok"] is False
    moved = client.post(
        reverse("sales:opportunity_move", args=[deal.pk]),
        {"stage": f.stage("Qualification").pk, "version": 2},
        HTTP_ACCEPT="application/json",
    )
    assert moved.status_code == 200 and moved.json()["version"] == 3


def test_move_into_an_approval_stage_is_refused_then_allowed(
    client, team, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    boss, rep, _peer = team
    deal = f.opportunity(rep, discount_percent="15")
    client.force_login(rep)
    proposal = f.stage("Proposal sent")
    refused = client.post(
        reverse("sales:opportunity_move", args=[deal.pk]),
        {"stage": proposal.pk, "version": 1},
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code == 409
    assert "approval" in refused.json()["message"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sales:approval_request", args=[deal.pk]), {"comment": "Key account"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [[boss.email]]
    approval = Approval.objects.get()
    client.force_login(boss)
    assert b"Key account" in client.get(reverse("sales:approval_list")).content
    no_comment = client.post(reverse("sales:approval_decide", args=[approval.pk]), {"decision": "reject"})
    assert no_comment.status_code == 400
    client.post(
        reverse("sales:approval_decide", args=[approval.pk]), {"decision": "approve", "comment": "ok"}
    )
    client.force_login(rep)
    allowed = client.post(
        reverse("sales:opportunity_move", args=[deal.pk]),
        {"stage": proposal.pk, "version": 1},
        HTTP_ACCEPT="application/json",
    )
    assert allowed.status_code == 200


def test_requester_cannot_decide_their_own_request(client, team) -> None:  # type: ignore[no-untyped-def]
    boss, _rep, _peer = team
    deal = f.opportunity(boss, discount_percent="50")
    approval = approval_services.approval_request(actor=boss, opportunity=deal, comment="")
    client.force_login(boss)
    client.post(reverse("sales:approval_decide", args=[approval.pk]), {"decision": "approve"})
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_pipeline_admin(client, team) -> None:  # type: ignore[no-untyped-def]
    boss, rep, _peer = team
    client.force_login(rep)
    assert client.get(reverse("sales:pipeline_list")).status_code == 403
    client.force_login(boss)
    assert client.get(reverse("sales:pipeline_list")).status_code == 200
    response = client.post(reverse("sales:pipeline_list"), {"name": "Renewals"})
    pipeline_pk = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert client.get(reverse("sales:pipeline_detail", args=[pipeline_pk])).status_code == 200
    added = client.post(
        reverse("sales:stage_create", args=[pipeline_pk]),
        {
            "stage-name": "Offer",
            "stage-kind": "open",
            "stage-probability": "40",
            "stage-requires_approval": "on",
        },
    )
    assert added.status_code == 302
    offer = Stage.objects.get(pipeline_id=pipeline_pk, name="Offer")
    assert offer.requires_approval and offer.probability == 40
    won = Stage.objects.get(pipeline_id=pipeline_pk, kind="won")
    client.post(reverse("sales:stage_delete", args=[won.pk]))
    assert Stage.objects.filter(pk=won.pk).exists()  # the only won stage stays
    assert client.get(reverse("sales:approval_limits")).status_code == 200
    saved = client.post(
        reverse("sales:approval_limits"),
        {"max_discount_percent": "20", "max_amount": "5000", "currency": "EUR"},
    )
    assert saved.status_code == 302
    assert approval_services.approval_limits().max_discount_percent == Decimal("20")


def test_home_page_panel_partial_lists_waiting_approvals(team) -> None:  # type: ignore[no-untyped-def]
    from django.template.loader import render_to_string

    boss, rep, _peer = team
    deal = f.opportunity(rep, name="Big fibre deal", discount_percent="25")
    approval_services.approval_request(actor=rep, opportunity=deal, comment="")
    html = render_to_string(
        "sales/opportunities/_pending_approvals.html",
        {"pending_deal_approvals": list(approval_services.approvals_to_decide(boss)[:5])},
    )
    assert "Big fibre deal" in html and reverse("sales:approval_list") in html
