"""The email about a disabled webhook links to its page with an absolute address (KITH_BASE_URL)."""

from __future__ import annotations

import pytest

from kith.parties.tests.test_digest import _parts
from kith.webhooks import services
from kith.webhooks.services import delivery

pytestmark = pytest.mark.django_db


def test_the_disabled_email_links_to_the_webhook_on_the_base_url(
    admin_user, receiver, smtp, settings, django_capture_on_commit_callbacks
):
    settings.KITH_BASE_URL = "https://crm.example.com"
    webhook, _secret = services.webhook_create(
        actor=admin_user, data={"name": "ERP", "url": receiver.url, "event_types": ["*"]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.disable(webhook.pk, reason="10 failed attempts in a row")
    ((recipients, message),) = smtp.messages
    assert recipients == ["root@example.com"]
    text, _html = _parts(message)
    assert f"at https://crm.example.com/webhooks/{webhook.pk}/\r\n" in text
