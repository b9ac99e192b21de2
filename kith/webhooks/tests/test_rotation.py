"""A new signing secret: for a grace period events carry a signature with each secret, then the new one's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from kith.audit.models import AuditEntry
from kith.parties.tests.factories import company
from kith.webhooks import services
from kith.webhooks.models import Webhook
from kith.webhooks.services import delivery

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _hook(actor: Any, receiver: Any) -> tuple[Webhook, str]:
    return services.webhook_create(
        actor=actor, data={"name": "ERP", "url": receiver.url, "event_types": ["customer.created"]}
    )


def _documented_verify() -> Any:
    """The receiver's check as docs/architecture.md gives it."""
    text = (Path(django_settings.BASE_DIR) / "docs" / "architecture.md").read_text()
    code = text.split("**Verifying an event**", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 -- the lines the docs give receivers
    return namespace["verify"]


def _v1s(header: str) -> list[str]:
    return [part.split("=", 1)[1] for part in header.split(",") if part.startswith("v1=")]


def test_both_secrets_sign_during_the_grace_period_then_only_the_new_one(admin_user, receiver, settings):
    settings.KITH_WEBHOOK_SECRET_GRACE_SECONDS = 3600
    documented = _documented_verify()
    webhook, old = _hook(admin_user, receiver)
    rotated_at = timezone.now()
    webhook, new = services.webhook_rotate_secret(actor=admin_user, webhook=webhook, now=rotated_at)
    assert new != old and webhook.previous_secret_until == rotated_at + HOUR

    company(admin_user, legal_name="During Grace Ltd")
    assert delivery.deliver_due(now=rotated_at + HOUR - dt.timedelta(seconds=1)) == 1
    during = receiver.requests[-1]
    header = during.headers["kith-signature"]
    assert len(_v1s(header)) == 2
    for secret in (new, old):
        assert delivery.verify(secret, during.body, header)
        assert documented(secret, during.body, header)
    assert not documented("whsec_wrong", during.body, header)

    company(admin_user, legal_name="After Grace Ltd")
    assert delivery.deliver_due(now=rotated_at + HOUR) == 1
    after = receiver.requests[-1]
    header = after.headers["kith-signature"]
    assert len(_v1s(header)) == 1
    assert delivery.verify(new, after.body, header) and documented(new, after.body, header)
    assert not delivery.verify(old, after.body, header) and not documented(old, after.body, header)


def test_rotating_again_ends_the_older_secrets_grace(admin_user, receiver):
    webhook, first = _hook(admin_user, receiver)
    webhook, second = services.webhook_rotate_secret(actor=admin_user, webhook=webhook)
    webhook, third = services.webhook_rotate_secret(actor=admin_user, webhook=webhook)
    webhook.refresh_from_db()
    assert (webhook.secret, webhook.previous_secret) == (third, second)
    services.webhook_ping(actor=admin_user, webhook=webhook)
    (request,) = receiver.requests
    header = request.headers["kith-signature"]
    assert delivery.verify(third, request.body, header) and delivery.verify(second, request.body, header)
    assert not delivery.verify(first, request.body, header)
    # the previous secret is kept like the current one: encrypted, and only "(changed)" in the audit trail
    changes = [e.changes for e in AuditEntry.objects.filter(object_type="webhooks.webhook").order_by("seq")]
    assert [c.get("previous_secret") for c in changes] == [None, "(changed)", "(changed)"]
    assert not any(s in str(changes) for s in (first, second, third))


def test_without_a_grace_period_the_new_secret_alone_signs(admin_user, receiver, settings):
    settings.KITH_WEBHOOK_SECRET_GRACE_SECONDS = 0
    webhook, _old = _hook(admin_user, receiver)
    webhook, new = services.webhook_rotate_secret(actor=admin_user, webhook=webhook)
    assert webhook.previous_secret == "" and webhook.previous_secret_until is None
    services.webhook_ping(actor=admin_user, webhook=webhook)
    (request,) = receiver.requests
    assert len(_v1s(request.headers["kith-signature"])) == 1
    assert delivery.verify(new, request.body, request.headers["kith-signature"])


def test_the_page_says_until_when_the_previous_secret_is_accepted(client, admin_user, receiver):
    client.force_login(admin_user)
    webhook, _secret = _hook(admin_user, receiver)
    page = client.get(f"/webhooks/{webhook.pk}/").content.decode()
    assert "Previous secret still accepted until" not in page

    rotated = client.post(f"/webhooks/{webhook.pk}/rotate-secret/").content.decode()
    webhook.refresh_from_db()
    until = timezone.localtime(webhook.previous_secret_until).strftime("%Y-%m-%d %H:%M")
    assert webhook.secret in rotated and f"also with the previous one until {until}" in rotated
    page = client.get(f"/webhooks/{webhook.pk}/").content.decode()
    assert f"Previous secret still accepted until {until}" in page
    api = client.get(f"/api/v1/webhooks/{webhook.pk}/").json()
    assert api["previous_secret_until"] is not None

    Webhook.objects.filter(pk=webhook.pk).update(previous_secret_until=timezone.now() - HOUR)
    page = client.get(f"/webhooks/{webhook.pk}/").content.decode()
    assert "Previous secret still accepted until" not in page
    assert client.get(f"/api/v1/webhooks/{webhook.pk}/").json()["previous_secret_until"] is None
