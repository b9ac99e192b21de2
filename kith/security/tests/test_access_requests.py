"""Access requests for sensitive data: the walk from request to approval to expiry, who may decide, the
audit trail of it all, the home page and the approver's email (through a real SMTP server on loopback)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from kith.audit.models import AuditEntry
from kith.parties.tests.factories import person
from kith.security import access_requests
from kith.security.models import AccessRequest, AccessRequestStatus
from kith.security.tasks import access_request_notice
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003121234"
MASKED_ID = "1101**********1234"


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def team() -> dict[str, Any]:
    boss = make_user("boss", "sales_manager", email="boss@example.com")
    lead = make_user("lead", "sales_rep", manager=boss)
    rep = make_user("rep", "sales_rep", manager=lead, email="rep@example.com")
    peer = make_user("peer", "sales_rep", manager=lead)
    customer = person(rep, given_name="Li", family_name="Wei", id_document_number=ID_NUMBER)
    return {"boss": boss, "lead": lead, "rep": rep, "peer": peer, "customer": customer}


def _detail(user: Any, customer: Any) -> dict[str, Any]:
    return dict(_api(user).get(f"/api/v1/customers/{customer.customer_number}/").json())


def test_the_walk_request_approve_see_for_24_hours_then_masked_again(client, team, settings):
    rep, lead, customer = team["rep"], team["lead"], team["customer"]
    settings.KITH_ACCESS_GRANT_HOURS = 24
    # the rep sees it masked and asks with a purpose, on the web
    client.force_login(rep)
    page = client.get(reverse("parties:customer_detail", kwargs={"number": customer.customer_number}))
    assert MASKED_ID in page.content.decode() and "Request access" in page.content.decode()
    new_url = reverse(
        "access_requests:new", kwargs={"object_type": "customer", "key": customer.customer_number}
    )
    short = client.post(new_url, {"purpose": "KYC"})
    assert short.status_code == 400 and "at least 10 characters" in short.content.decode()
    assert not AccessRequest.objects.exists()
    response = client.post(
        new_url, {"purpose": "Contract signing needs the ID", "fields": ["id_document_number"]}
    )
    assert response.status_code == 302
    request = AccessRequest.objects.get()
    assert request.status == AccessRequestStatus.PENDING and request.fields == ["id_document_number"]

    # the manager (the rep's direct manager here) sees it on the home page and approves it
    client.force_login(lead)
    # the lead holds sales_rep only: approving comes from being the requester's manager
    home = client.get(reverse("parties:home")).content.decode()
    assert "Access requests to decide" in home and "rep" in home
    start = timezone.now()
    response = client.post(
        reverse("access_requests:decide", kwargs={"pk": request.pk}), {"decision": "approve", "comment": "ok"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.APPROVED and request.approver == lead
    assert request.expires_at is not None
    assert start + dt.timedelta(hours=24) <= request.expires_at <= timezone.now() + dt.timedelta(hours=24)

    # the rep sees the ID number, on the page and in the API; each view is recorded
    client.force_login(rep)
    page = client.get(reverse("parties:customer_detail", kwargs={"number": customer.customer_number}))
    assert ID_NUMBER in page.content.decode()
    assert _detail(rep, customer)["id_document_number"] == ID_NUMBER
    views = AuditEntry.objects.filter(action="view_sensitive", customer_id=customer.pk)
    assert views.count() == 2
    assert {v.changes["purpose"] for v in views} == {"Contract signing needs the ID"}
    assert {v.changes["access_request"] for v in views} == {request.pk}
    assert {v.actor_id for v in views} == {rep.pk}
    # to that customer only
    other = person(rep, given_name="Other", id_document_number="220202198001011111")
    assert _detail(rep, other)["id_document_number"] == "2202**********1111"

    # 23 hours later still visible, 25 hours later masked again and marked expired
    later = timezone.now() + dt.timedelta(hours=23)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert _detail(rep, customer)["id_document_number"] == ID_NUMBER
    later = timezone.now() + dt.timedelta(hours=25)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert _detail(rep, customer)["id_document_number"] == MASKED_ID
        client.force_login(rep)
        page = client.get(reverse("parties:customer_detail", kwargs={"number": customer.customer_number}))
        assert MASKED_ID in page.content.decode() and ID_NUMBER not in page.content.decode()
        assert access_requests.expire_due() == 1
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.EXPIRED
    assert (
        AuditEntry.objects.filter(action="view_sensitive", customer_id=customer.pk).count() == 3
    )  # the 23 h one

    # the audit trail holds the request, the decision and the expiry, on the customer's history too
    trail = list(
        AuditEntry.objects.filter(object_type="security.accessrequest", object_id=str(request.pk)).order_by(
            "seq"
        )
    )
    assert [e.customer_id for e in trail] == [customer.pk] * 3
    assert trail[0].actor_id == rep.pk and trail[0].changes["purpose"][1] == "Contract signing needs the ID"
    assert trail[1].actor_id == lead.pk and trail[1].changes["status"] == ["pending", "approved"]
    assert trail[1].changes["approver"][1] == lead.pk
    assert trail[2].changes["status"] == ["approved", "expired"]
    client.force_login(team["boss"])
    history = client.get(reverse("audit:customer_history", kwargs={"number": customer.customer_number}))
    assert history.status_code == 200


def test_a_peer_cannot_approve_and_nobody_approves_their_own(team):
    rep, peer, customer = team["rep"], team["peer"], team["customer"]
    created = _api(rep).post(
        f"/api/v1/customers/{customer.customer_number}/access-requests/",
        {"purpose": "Checking the identity for a refund"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    # a peer (same manager, no approve permission) does not even see it
    assert _api(peer).post(f"/api/v1/access-requests/{pk}/approve/", {}, format="json").status_code == 404
    assert _api(rep).post(f"/api/v1/access-requests/{pk}/approve/", {}, format="json").status_code in (
        403,
        404,
    )
    request = AccessRequest.objects.get(pk=pk)
    assert request.status == AccessRequestStatus.PENDING
    with pytest.raises(Exception, match="own request"):
        access_requests.decide(actor=rep, access_request=request, approve=True)
    # a data steward (a role with customer.approve: the sales manager) may, anywhere in the organisation
    steward = make_user("steward", "sales_manager")
    listing = _api(steward).get("/api/v1/access-requests/").json()
    assert listing["to_decide"] == []  # the rep has a manager: it is asked, not the stewards
    response = _api(steward).post(f"/api/v1/access-requests/{pk}/reject/", {"comment": "no"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    again = _api(team["lead"]).post(f"/api/v1/access-requests/{pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert _detail(rep, customer)["id_document_number"] == MASKED_ID


def test_the_manager_above_the_manager_may_approve(team):
    rep, boss, customer = team["rep"], team["boss"], team["customer"]
    row = access_requests.request_access(
        actor=rep, object_type="customer", record=customer, purpose="Opening a credit account"
    )
    assert [r.pk for r in access_requests.requests_to_decide(boss)] == [row.pk]
    assert [r.pk for r in access_requests.requests_to_decide(team["lead"])] == [row.pk]
    assert list(access_requests.requests_to_decide(team["peer"])) == []
    listing = _api(rep).get("/api/v1/access-requests/").json()
    assert [r["id"] for r in listing["mine"]] == [row.pk]
    response = _api(boss).post(f"/api/v1/access-requests/{row.pk}/approve/", {}, format="json")
    assert response.status_code == 200 and response.json()["expires_at"]


def test_api_field_errors(team, admin_user):
    customer = team["customer"]
    api = _api(team["rep"])
    url = f"/api/v1/customers/{customer.customer_number}/access-requests/"
    response = api.post(url, {"purpose": "short"}, format="json")
    assert response.status_code == 400 and "purpose" in response.json()["errors"]
    response = api.post(url, {"purpose": "A long enough purpose", "fields": ["given_name"]}, format="json")
    assert response.status_code == 400 and "fields" in response.json()["errors"]
    response = api.post(url, {"purpose": "A long enough purpose", "oops": 1}, format="json")
    assert response.status_code == 400 and "oops" in response.json()["errors"]
    assert not AccessRequest.objects.exists()
    # a customer the rep cannot see: 404
    hidden = person(team["boss"], given_name="Secret")
    assert (
        api.post(
            f"/api/v1/customers/{hidden.customer_number}/access-requests/",
            {"purpose": "x" * 20},
            format="json",
        ).status_code
        == 404
    )
    # nothing masked for an administrator: a field error, not a request
    response = _api(admin_user).post(url, {"purpose": "A long enough purpose"}, format="json")
    assert response.status_code == 400
    assert api.post(url, {"purpose": "A long enough purpose"}, format="json").status_code == 201
    twice = api.post(url, {"purpose": "A long enough purpose"}, format="json")
    assert twice.status_code == 400  # one pending request per record


def test_the_approver_gets_an_email(team, smtp, django_capture_on_commit_callbacks):
    rep, customer = team["rep"], team["customer"]
    team["lead"].email = "lead@example.com"
    team["lead"].save()
    with django_capture_on_commit_callbacks(execute=True):
        row = access_requests.request_access(
            actor=rep, object_type="customer", record=customer, purpose="Verifying the identity on a call"
        )
    assert DBTaskResult.objects.filter(args_kwargs__args=[row.pk]).exists()
    sent = access_request_notice.call(row.pk)
    assert sent == ["lead@example.com"]
    (recipients, message), *_rest = smtp.messages
    assert recipients == ["lead@example.com"]
    body = message.get_payload(decode=True).decode()
    assert "Verifying the identity on a call" in body and customer.customer_number in body


def test_without_a_manager_the_data_stewards_are_asked(team, smtp):
    loner = make_user("loner", "sales_rep")
    steward = make_user("steward", "sales_manager", email="steward@example.com")
    customer = person(loner, given_name="Solo", id_document_number=ID_NUMBER)
    row = access_requests.request_access(
        actor=loner, object_type="customer", record=customer, purpose="Checking a delivery address"
    )
    assert [r.pk for r in access_requests.requests_to_decide(steward)] == [row.pk]
    assert "steward@example.com" in access_request_notice.call(row.pk)
    assert "boss@example.com" in [u.email for u in access_requests.approvers_for(loner, "customer")]


def test_the_requests_page_and_withdrawing(client, team):
    rep, customer = team["rep"], team["customer"]
    row = access_requests.request_access(
        actor=rep, object_type="customer", record=customer, purpose="Preparing the yearly contract"
    )
    client.force_login(rep)
    page = client.get(reverse("access_requests:list")).content.decode()
    assert "Preparing the yearly contract" in page and "withdraw" in page
    client.post(reverse("access_requests:withdraw", kwargs={"pk": row.pk}))
    row.refresh_from_db()
    assert row.status == AccessRequestStatus.WITHDRAWN
    client.force_login(team["peer"])
    assert (
        client.post(
            reverse("access_requests:decide", kwargs={"pk": row.pk}), {"decision": "approve"}
        ).status_code
        == 404
    )
