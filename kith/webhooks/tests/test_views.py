"""The webhook pages: list, create with field errors, the secret once, detail and its actions."""

from __future__ import annotations

from typing import Any

import pytest

from kith.parties.tests.factories import company
from kith.webhooks import services
from kith.webhooks.choices import DeliveryStatus
from kith.webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


def _hook(actor: Any, receiver: Any) -> Webhook:
    webhook, _secret = services.webhook_create(
        actor=actor, data={"name": "ERP", "url": receiver.url, "event_types": ["*"]}
    )
    return webhook


def test_create_shows_field_errors_then_the_secret_once(admin_client, receiver, settings):
    page = admin_client.get("/webhooks/new/")
    assert page.status_code == 200 and "customer.created" in page.content.decode()
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = False
    refused = admin_client.post("/webhooks/new/", {"name": "ERP", "url": receiver.url})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "KITH_WEBHOOK_ALLOW_PRIVATE" in html and "Choose at least one event type." in html
    assert not Webhook.objects.exists()

    settings.KITH_WEBHOOK_ALLOW_PRIVATE = True
    created = admin_client.post(
        "/webhooks/new/", {"name": "ERP", "url": receiver.url, "event_types": ["customer.created"]}
    )
    assert created.status_code == 200
    webhook = Webhook.objects.get()
    assert webhook.secret in created.content.decode()
    detail = admin_client.get(f"/webhooks/{webhook.pk}/").content.decode()
    assert webhook.secret not in detail and receiver.url.replace("&", "&amp;") in detail


def test_the_list_and_detail_show_state_and_deliveries(admin_client, admin_user, receiver):
    webhook = _hook(admin_user, receiver)
    receiver.statuses = [500]
    company(admin_user, legal_name="Listed Ltd")
    from kith.webhooks.services import delivery

    delivery.deliver_due()
    listing = admin_client.get("/webhooks/").content.decode()
    assert "ERP" in listing and "active" in listing
    detail = admin_client.get(f"/webhooks/{webhook.pk}/").content.decode()
    assert "customer.created" in detail and "500" in detail and "retrying" in detail
    assert 'hx-trigger="every 5s"' in detail  # polls while a delivery is pending
    partial = admin_client.get(f"/webhooks/{webhook.pk}/deliveries/")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()


def test_actions_ping_edit_rotate_redeliver_delete(admin_client, admin_user, receiver):
    webhook = _hook(admin_user, receiver)
    pinged = admin_client.post(f"/webhooks/{webhook.pk}/ping/", follow=True)
    assert "accepted the test event" in pinged.content.decode()
    assert receiver.requests[0].headers["kith-event"] == "ping"

    edited = admin_client.post(
        f"/webhooks/{webhook.pk}/edit/",
        {"name": "ERP 2", "url": receiver.url, "event_types": ["*"], "active": ""},
    )
    assert edited.status_code == 302
    webhook.refresh_from_db()
    assert webhook.name == "ERP 2" and not webhook.active
    bad = admin_client.post(
        f"/webhooks/{webhook.pk}/edit/", {"name": "", "url": "ftp://x", "event_types": ["*"]}
    )
    assert bad.status_code == 400 and "Use an http:// or https:// address." in bad.content.decode()

    enabled = admin_client.post(f"/webhooks/{webhook.pk}/enable/", follow=True)
    assert enabled.status_code == 200
    webhook.refresh_from_db()
    assert webhook.active

    old = webhook.secret
    rotated = admin_client.post(f"/webhooks/{webhook.pk}/rotate-secret/")
    webhook.refresh_from_db()
    assert webhook.secret != old and webhook.secret in rotated.content.decode()

    ping = WebhookDelivery.objects.get()
    admin_client.post(f"/webhooks/{webhook.pk}/deliveries/{ping.uuid}/redeliver/")
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, event_id=ping.event_id).count() == 1

    assert admin_client.get(f"/webhooks/{webhook.pk}/delete/").status_code == 200
    assert admin_client.post(f"/webhooks/{webhook.pk}/delete/").status_code == 302
    assert not Webhook.objects.exists()


def test_other_users_may_not_see_or_change_webhooks(signed_in, admin_user, receiver):
    webhook = _hook(admin_user, receiver)
    for path in ("/webhooks/", "/webhooks/new/", f"/webhooks/{webhook.pk}/", f"/webhooks/{webhook.pk}/edit/"):
        assert signed_in.get(path).status_code == 403, path
    for path in ("ping", "enable", "rotate-secret", "delete"):
        assert signed_in.post(f"/webhooks/{webhook.pk}/{path}/").status_code == 403, path
    webhook.refresh_from_db()
    assert Webhook.objects.count() == 1 and receiver.requests == []


def test_a_non_superuser_admin_cannot_borrow_another_accounts_eyes(admin_user, receiver):
    from django.core.exceptions import ValidationError

    from kith.security.testing import make_user

    ops = make_user("ops", "administrator")
    rep = make_user("rep", "sales_rep")
    with pytest.raises(ValidationError) as refused:
        services.webhook_create(
            actor=ops, data={"name": "x", "url": receiver.url, "event_types": ["*"], "owner": admin_user}
        )
    assert "owner" in refused.value.message_dict
    webhook, _secret = services.webhook_create(
        actor=admin_user, data={"name": "x", "url": receiver.url, "event_types": ["*"], "owner": rep}
    )
    # pointing it elsewhere makes the one who did it its owner
    services.webhook_update(actor=ops, webhook=webhook, data={"url": receiver.url + "&v=2"})
    webhook.refresh_from_db()
    assert webhook.owner == ops
