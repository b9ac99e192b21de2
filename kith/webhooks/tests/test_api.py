"""The webhooks REST API: CRUD, deliveries, test events, enable, secrets; administrators only."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from kith.jobs.models import Job
from kith.parties.services import exports
from kith.parties.tests.factories import company
from kith.security import tokens
from kith.webhooks.models import Webhook, WebhookDelivery
from kith.webhooks.services import delivery

pytestmark = pytest.mark.django_db
API = "/api/v1/webhooks"


@pytest.fixture
def admin_api(admin_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def _create(api: APIClient, receiver: Any, **data: Any) -> Any:
    body = {"name": "ERP", "url": receiver.url, "event_types": ["customer.created"], **data}
    return api.post(f"{API}/", body, format="json")


def test_crud_and_the_secret_shown_once(admin_api, receiver):
    created = _create(admin_api, receiver)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["secret"].startswith("whsec_") and data["owner"] == "root" and data["active"] is True
    pk = data["id"]
    shown = admin_api.get(f"{API}/{pk}/").json()
    assert "secret" not in shown and shown["event_types"] == ["customer.created"]
    assert [w["id"] for w in admin_api.get(f"{API}/").json()] == [pk]

    changed = admin_api.patch(f"{API}/{pk}/", {"event_types": ["*"], "name": "ERP sync"}, format="json")
    assert changed.status_code == 200 and changed.json()["event_types"] == ["*"]
    assert changed.json()["name"] == "ERP sync"

    rotated = admin_api.post(f"{API}/{pk}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != data["secret"]
    assert Webhook.objects.get().secret == rotated.json()["secret"]

    types = admin_api.get(f"{API}/event-types/").json()["results"]
    assert {"code": "customer.created", "label": "Customer created"} in types

    assert admin_api.delete(f"{API}/{pk}/").status_code == 204
    assert not Webhook.objects.exists()
    assert admin_api.get(f"{API}/{pk}/").status_code == 404


def test_field_errors_are_json_and_nothing_is_saved(admin_api, receiver, settings):
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = False
    response = _create(admin_api, receiver, event_types=["nope"], name="")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"url", "event_types", "name"}
    assert "KITH_WEBHOOK_ALLOW_PRIVATE" in errors["url"][0]
    assert _create(admin_api, receiver, colour="red").json()["errors"]["colour"] == ["Unknown field."]
    assert _create(admin_api, receiver, owner="nobody").json()["errors"]["owner"]
    assert not Webhook.objects.exists()


def test_deliveries_ping_enable_and_redeliver(admin_api, admin_user, receiver):
    pk = _create(admin_api, receiver).json()["id"]
    ping = admin_api.post(f"{API}/{pk}/ping/")
    assert ping.status_code == 200 and ping.json()["status"] == "succeeded"
    company(admin_user)
    delivery.deliver_due()
    page = admin_api.get(f"{API}/{pk}/deliveries/?limit=1").json()
    assert [d["event_type"] for d in page["results"]] == ["customer.created"]
    assert "body" not in page["results"][0]
    rest = admin_api.get(f"{API}/{pk}/deliveries/?cursor={page['next_cursor']}").json()
    assert [d["event_type"] for d in rest["results"]] == ["ping"] and rest["next_cursor"] is None
    assert admin_api.get(f"{API}/{pk}/deliveries/?status=succeeded").json()["results"]
    assert admin_api.get(f"{API}/{pk}/deliveries/?status=bogus").status_code == 400
    assert admin_api.get(f"{API}/{pk}/deliveries/?limit=0").status_code == 400

    first = page["results"][0]["id"]
    again = admin_api.post(f"{API}/{pk}/deliveries/{first}/redeliver/")
    assert again.status_code == 202 and again.json()["event_id"] == page["results"][0]["event_id"]

    Webhook.objects.filter(pk=pk).update(active=False, consecutive_failures=7)
    refused = admin_api.post(f"{API}/{pk}/deliveries/{first}/redeliver/")
    assert refused.status_code == 400 and refused.json()["detail"] == "Enable the webhook first."
    enabled = admin_api.post(f"{API}/{pk}/enable/").json()
    assert enabled["active"] is True and enabled["consecutive_failures"] == 0


def test_only_administrators_manage_webhooks(user, admin_api, receiver):
    pk = _create(admin_api, receiver).json()["id"]
    api = APIClient()
    api.force_authenticate(user)  # a sales manager
    for method, path in (
        ("get", "/"),
        ("post", "/"),
        ("get", f"/{pk}/"),
        ("patch", f"/{pk}/"),
        ("delete", f"/{pk}/"),
        ("get", f"/{pk}/deliveries/"),
        ("post", f"/{pk}/ping/"),
        ("post", f"/{pk}/enable/"),
        ("post", f"/{pk}/rotate-secret/"),
        ("get", "/event-types/"),
    ):
        response = getattr(api, method)(f"{API}{path}", {"name": "x"}, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "permission_denied"
    webhook = Webhook.objects.get()
    assert webhook.name == "ERP" and webhook.active
    assert not WebhookDelivery.objects.exists()  # no test event was sent
    assert APIClient().get(f"{API}/").status_code == 401


def test_a_token_needs_the_webhooks_scope(admin_user, receiver):
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci", "scopes": ["customers:read"]})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(f"{API}/").status_code == 403
    _token, key = tokens.create_token(actor=admin_user, data={"name": "ci2", "scopes": ["webhooks:read"]})
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(f"{API}/").status_code == 200
    assert _create(api, receiver).status_code == 403  # read only


def test_a_finished_export_is_an_event(admin_api, admin_user, receiver):
    _create(admin_api, receiver, event_types=["export.finished"])
    job = Job.objects.create(kind=exports.JOB_KIND, owner=admin_user, title="Export")
    job.status = "succeeded"
    job.save(update_fields=["status"])
    row = WebhookDelivery.objects.get()
    assert (row.event_type, row.subject_type, row.subject_id) == ("export.finished", "jobs.job", str(job.pk))
    delivery.deliver_due()
    body = receiver.requests[0].json
    assert body["data"]["object"]["status"] == "succeeded" and body["data"]["object"]["id"] == job.pk


def test_the_schema_validates_and_documents_the_endpoints(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{id}/",
        "/api/v1/webhooks/{id}/deliveries/",
        "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver/",
        "/api/v1/webhooks/{id}/ping/",
        "/api/v1/webhooks/{id}/enable/",
        "/api/v1/webhooks/{id}/rotate-secret/",
        "/api/v1/webhooks/event-types/",
    ):
        assert f"  {path}:" in schema, path
