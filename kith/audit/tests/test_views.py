"""Global audit view, CSV export, History tab, restore, access log, API: permissions and behaviour."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from kith.audit.choices import AccessKind, Action
from kith.audit.models import AccessLog, AuditEntry
from kith.audit.services import log_access
from kith.parties import services
from kith.parties.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    return client


def test_audit_view_needs_the_permission(signed_in):
    assert signed_in.get("/audit/").status_code == 403
    assert signed_in.get("/audit/export.csv").status_code == 403
    assert signed_in.get("/audit/access/").status_code == 403


def test_audit_view_filters_and_pages(admin_client, admin_user):
    for name in ("One", "Two", "Three"):
        person(actor=admin_user, family_name=name)
    page = admin_client.get("/audit/", {"object_type": "parties.customer", "action": "create", "limit": 2})
    assert page.status_code == 200
    shown = page.context["page"].entries
    assert [e.changes["family_name"][1] for e in shown] == ["Three", "Two"]
    older = admin_client.get(
        "/audit/",
        {
            "object_type": "parties.customer",
            "action": "create",
            "limit": 2,
            "cursor": page.context["page"].next_cursor,
        },
    )
    assert [e.changes["family_name"][1] for e in older.context["page"].entries] == ["One"]
    assert "Family name" in page.content.decode() or "family name" in page.content.decode()


def test_bad_filters_are_field_errors_not_500(admin_client):
    response = admin_client.get("/audit/", {"action": "explode", "date_from": "yesterday", "cursor": "x"})
    assert response.status_code == 400
    errors = response.context["filters"].errors
    assert set(errors) == {"action", "date_from", "cursor"}


def test_csv_export_defuses_formulas_and_is_audited(admin_client, admin_user):
    person(actor=admin_user, display_name='=HYPERLINK("http://evil")')
    person(actor=admin_user, display_name="@SUM(A1)")
    response = admin_client.get("/audit/export.csv", {"object_type": "parties.customer"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "seq"
    reprs = [row[9] for row in rows[1:]]
    assert any(r.startswith("'=HYPERLINK") for r in reprs)
    assert any(r.startswith("'@SUM") for r in reprs)
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)
    assert AuditEntry.objects.filter(action=Action.EXPORT, object_type="audit.auditentry").exists()
    assert AccessLog.objects.filter(kind=AccessKind.EXPORT).exists()


def test_history_tab_lists_the_customer_and_its_children(admin_client, admin_user):
    customer = person(actor=admin_user, phones=[{"number": "+8613800138002"}])
    other = person(actor=admin_user, family_name="Elsewhere")
    services.customer_update(
        actor=admin_user, customer=customer, expected_version=customer.version, data={"notes": "hello"}
    )
    response = admin_client.get(f"/customers/{customer.customer_number}/history/")
    assert response.status_code == 200
    types = {e.object_type for e in response.context["page"].entries}
    assert {"parties.customer", "parties.phone"} <= types
    assert all(e.customer_id == customer.pk for e in response.context["page"].entries)
    assert str(other.pk) not in {
        e.object_id for e in response.context["page"].entries if e.object_type == "parties.customer"
    }
    assert "hello" in response.content.decode()


def test_history_needs_permission_and_visibility(signed_in, admin_user):
    customer = person(actor=admin_user)
    assert signed_in.get(f"/customers/{customer.customer_number}/history/").status_code in (403, 404)
    assert signed_in.get("/customers/NOPE/history/").status_code in (403, 404)


def test_restore_customer_and_one_field(admin_client, admin_user, entries):
    customer = person(actor=admin_user, notes="original", channel="fair")
    created = entries(object_type="parties.customer", action=Action.CREATE)[0]
    services.customer_update(
        actor=admin_user,
        customer=customer,
        expected_version=customer.version,
        data={"notes": "vandalised", "channel": "web"},
    )
    customer.refresh_from_db()
    # one field
    response = admin_client.post(
        f"/customers/{customer.customer_number}/history/{created.seq}/restore/",
        {"version": customer.version, "field": "notes"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.notes, customer.channel) == ("original", "web")
    restore = entries(action=Action.RESTORE)
    assert restore and restore[-1].changes["notes"] == ["vandalised", "original"]
    assert restore[-1].changes["_restored_from"] == created.seq
    # the whole customer
    admin_client.post(
        f"/customers/{customer.customer_number}/history/{created.seq}/restore/", {"version": customer.version}
    )
    customer.refresh_from_db()
    assert (customer.notes, customer.channel) == ("original", "fair")


def test_restore_with_a_stale_version_is_refused(admin_client, admin_user):
    customer = person(actor=admin_user, notes="original")
    created = AuditEntry.objects.filter(object_type="parties.customer", object_id=str(customer.pk)).first()
    services.customer_update(
        actor=admin_user, customer=customer, expected_version=customer.version, data={"notes": "changed"}
    )
    response = admin_client.post(
        f"/customers/{customer.customer_number}/history/{created.seq}/restore/", {"version": 1}, follow=True
    )
    customer.refresh_from_db()
    assert customer.notes == "changed"
    assert any("changed by someone else" in str(m) for m in response.context["messages"])


def test_restore_needs_edit_permission(signed_in, admin_user):
    customer = person(actor=admin_user, notes="x")
    created = AuditEntry.objects.filter(object_type="parties.customer", object_id=str(customer.pk)).first()
    response = signed_in.post(
        f"/customers/{customer.customer_number}/history/{created.seq}/restore/", {"version": customer.version}
    )
    assert response.status_code in (403, 404)


def test_customer_page_views_are_in_the_access_log(admin_client, admin_user):
    customer = person(actor=admin_user)
    admin_client.get(f"/customers/{customer.customer_number}/")
    api = APIClient()
    api.force_authenticate(admin_user)
    api.get(f"/api/v1/customers/{customer.customer_number}/page/")
    views = AccessLog.objects.filter(kind=AccessKind.VIEW, user=admin_user)
    assert [(v.source, v.customer_ids) for v in views.order_by("id")] == [
        ("web", [customer.pk]),
        ("api", [customer.pk]),
    ]
    log_access(admin_user, AccessKind.SEARCH, query="smith", result_count=3)
    summary = admin_client.get("/audit/access/")
    row = summary.context["rows"][0]
    assert (row.username, row.views, row.searches) == ("root", 2, 1)


def test_access_log_is_append_only(admin_user):
    from kith.audit.models import AppendOnlyError

    row = log_access(admin_user, AccessKind.SEARCH, query="x")
    with pytest.raises(AppendOnlyError):
        row.delete()


def test_api_lists_and_refuses_writes(admin_user, user):
    customer = person(actor=admin_user, notes="api")
    person(actor=admin_user, family_name="Second")
    api = APIClient()
    api.force_authenticate(admin_user)
    listed = api.get("/api/v1/audit/", {"object_type": "parties.customer", "limit": "1"})
    assert listed.status_code == 200
    body = listed.json()
    assert len(body["results"]) == 1 and body["next_cursor"]
    history = api.get(f"/api/v1/customers/{customer.customer_number}/history/")
    assert history.status_code == 200
    assert {r["customer_id"] for r in history.json()["results"]} == {customer.pk}
    assert api.get("/api/v1/audit/", {"source": "moon"}).status_code == 400
    seq = body["results"][0]["seq"]
    assert api.delete("/api/v1/audit/").status_code == 405
    assert api.patch("/api/v1/audit/", {"seq": seq}, format="json").status_code == 405
    plain = APIClient()
    plain.force_authenticate(user)
    assert plain.get("/api/v1/audit/").status_code == 403


def test_schema_documents_the_audit_api(admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    schema = api.get("/api/schema/").content.decode()
    assert "/api/v1/audit/" in schema and "/api/v1/customers/{number}/history/" in schema
