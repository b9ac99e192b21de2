"""Lead pages: list with filters and visibility (rep, manager, peer), create with field errors, edit with
a stale version, status steps, tasks, reassign, convert with the duplicate candidates, rules admin."""

from __future__ import annotations

import pytest
from django.test import Client

from kith.parties.models import Customer
from kith.parties.services import customers as customer_services
from kith.sales.choices import LeadStatus
from kith.sales.models import FollowUpTask, Lead, LeadAssignmentRule
from kith.sales.tests.lead_factories import lead
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _region(settings):
    settings.KITH_DEFAULT_REGION = "CN"
    settings.KITH_DEFAULT_CURRENCY = "CNY"


@pytest.fixture
def team(user):
    """The manager (``user``), a rep below them and a peer rep below no one."""
    rep = make_user("rep", "sales_rep", manager=user)
    peer = make_user("peer", "sales_rep")
    return user, rep, peer


def _client(who) -> Client:
    client = Client()
    client.force_login(who)
    return client


def test_visibility_rep_manager_peer(team):
    manager, rep, peer = team
    mine = lead(rep, company="Rep Co")
    assert mine.owner == rep
    assert "Rep Co" in _client(rep).get("/sales/leads/").content.decode()
    assert "Rep Co" in _client(manager).get("/sales/leads/").content.decode()
    assert "Rep Co" not in _client(peer).get("/sales/leads/").content.decode()
    assert _client(peer).get(f"/sales/leads/{mine.pk}/").status_code == 404
    assert _client(peer).post(f"/sales/leads/{mine.pk}/qualify/").status_code == 404


def test_filters(team):
    manager, rep, _peer = team
    lead(rep, company="Alpha", territory="North", source="event")
    lead(manager, company="Beta")
    client = _client(manager)
    page = client.get("/sales/leads/", {"owner": "mine"}).content.decode()
    assert "Beta" in page and "Alpha" not in page
    page = client.get("/sales/leads/", {"territory": "north", "source": "event"}).content.decode()
    assert "Alpha" in page and "Beta" not in page
    page = client.get("/sales/leads/", {"q": "alp"}).content.decode()
    assert "Alpha" in page and "Beta" not in page


def test_create_with_field_errors_then_success(team):
    manager, _rep, _peer = team
    client = _client(manager)
    bad = client.post("/sales/leads/new/", {"email": "nope", "phone": "12", "source": "manual"})
    assert bad.status_code == 400 and {"email", "phone"} <= set(bad.context["form"].errors)
    empty = client.post("/sales/leads/new/", {"source": "manual"})
    assert empty.status_code == 400 and "family_name" in empty.context["form"].errors
    assert not Lead.objects.exists()
    ok = client.post(
        "/sales/leads/new/", {"given_name": "Anna", "email": "A@Example.com", "source": "manual"}
    )
    made = Lead.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/sales/leads/{made.pk}/"
    assert made.email == "a@example.com" and made.owner == manager


def test_edit_with_a_stale_version_is_409(team):
    manager, _rep, _peer = team
    made = lead(manager)
    client = _client(manager)
    form = {"given_name": "Anna", "family_name": "Berg", "source": "manual", "version": "1"}
    assert client.post(f"/sales/leads/{made.pk}/edit/", {**form, "title": "CEO"}).status_code == 302
    stale = client.post(f"/sales/leads/{made.pk}/edit/", {**form, "title": "CTO"})
    assert stale.status_code == 409 and Lead.objects.get().title == "CEO"


def test_status_steps_tasks_and_reassign(team):
    manager, rep, _peer = team
    made = lead(manager)
    client = _client(manager)
    client.post(f"/sales/leads/{made.pk}/contacted/", {"version": "1"})
    assert Lead.objects.get().status == LeadStatus.CONTACTED
    no_reason = client.post(f"/sales/leads/{made.pk}/disqualify/", {"reason": "", "version": "2"})
    assert no_reason.status_code == 400
    client.post(f"/sales/leads/{made.pk}/disqualify/", {"reason": "No budget", "version": "2"})
    assert Lead.objects.get().status == LeadStatus.UNQUALIFIED
    bad_task = client.post(f"/sales/leads/{made.pk}/tasks/", {"title": "", "due_date": ""})
    assert bad_task.status_code == 400 and {"title", "due_date"} <= set(bad_task.context["task_form"].errors)
    client.post(f"/sales/leads/{made.pk}/tasks/", {"title": "Call back", "due_date": "2020-01-01"})
    task = FollowUpTask.objects.get()
    assert task.assignee == manager
    tasks_page = client.get("/sales/leads/tasks/").content.decode()
    assert "Call back" in tasks_page and "overdue" in tasks_page
    client.post(f"/sales/leads/tasks/{task.pk}/done/", {"version": "1", "next": "tasks"})
    assert FollowUpTask.objects.get().done_at is not None
    assert "Call back" not in client.get("/sales/leads/tasks/").content.decode()
    client.post(f"/sales/leads/{made.pk}/assign/", {"owner": rep.pk, "version": "3"})
    assert Lead.objects.get().owner == rep


def test_convert_page_offers_the_existing_customer(team):
    manager, _rep, _peer = team
    existing = customer_services.customer_create(
        actor=manager,
        kind="person",
        data={"given_name": "Anna", "family_name": "Berg"},
        emails=[{"address": "anna@example.com"}],
    )
    made = lead(manager, email="anna@example.com")
    client = _client(manager)
    page = client.get(f"/sales/leads/{made.pk}/convert/")
    assert page.status_code == 200 and existing.customer_number in page.content.decode()
    response = client.post(
        f"/sales/leads/{made.pk}/convert/",
        {
            "customer": str(existing.pk),
            "create_opportunity": "on",
            "opportunity_name": "Fleet",
            "amount": "100",
            "currency": "CNY",
        },
    )
    assert response.status_code == 302 and existing.customer_number in response["Location"]
    assert Customer.objects.count() == 1
    converted = Lead.objects.get()
    assert converted.status == LeadStatus.CONVERTED and converted.converted_customer == existing
    assert converted.converted_opportunity is not None and converted.converted_opportunity.name == "Fleet"
    # a second conversion is refused
    again = client.post(f"/sales/leads/{made.pk}/convert/", {"customer": ""})
    assert again.status_code == 302 and Customer.objects.count() == 1


def test_convert_with_a_bad_amount_shows_the_error_and_saves_nothing(team):
    manager, _rep, _peer = team
    made = lead(manager)
    response = _client(manager).post(
        f"/sales/leads/{made.pk}/convert/",
        {
            "customer": "",
            "create_opportunity": "on",
            "opportunity_name": "X",
            "amount": "-1",
            "currency": "CNY",
        },
    )
    assert response.status_code == 400 and "amount" in response.context["form"].errors
    assert not Customer.objects.exists() and Lead.objects.get().status == LeadStatus.NEW


def test_rules_admin_pages(team):
    manager, rep, peer = team
    assert _client(rep).get("/sales/leads/rules/").status_code == 403
    client = _client(manager)
    bad = client.post("/sales/leads/rules/new/", {"name": "", "method": "round_robin"})
    assert bad.status_code == 400 and {"name", "users"} <= set(bad.context["form"].errors)
    ok = client.post(
        "/sales/leads/rules/new/",
        {
            "name": "North",
            "position": "1",
            "is_active": "on",
            "territory": "north",
            "method": "round_robin",
            "users": [rep.pk, peer.pk],
        },
    )
    assert ok.status_code == 302
    made = LeadAssignmentRule.objects.get()
    assert "North" in client.get("/sales/leads/rules/").content.decode()
    assert client.get(f"/sales/leads/rules/{made.pk}/edit/").status_code == 200
    assert client.post(f"/sales/leads/rules/{made.pk}/delete/").status_code == 302
    assert not LeadAssignmentRule.objects.exists()


def test_list_page_and_api_take_the_same_queries_for_more_leads(team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    manager, rep, _peer = team
    client = _client(manager)
    api = APIClient()
    api.force_authenticate(manager)

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert client.get("/sales/leads/").status_code == 200
        with CaptureQueriesContext(connection) as listed:
            assert api.get("/api/v1/leads/").status_code == 200
        return len(page), len(listed)

    lead(rep, company="One")
    counts()  # warms the caches (permissions, reach, session)
    few = counts()
    for i in range(8):
        lead(rep if i % 2 else manager, company=f"Co {i}")
    assert counts() == few
