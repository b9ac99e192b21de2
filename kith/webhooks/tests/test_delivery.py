"""Events from the audit trail to a real receiver on loopback: signed, transactional, retried, disabled."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kith.audit.models import AuditEntry
from kith.core.schedule import run_periodic
from kith.parties import services as parties
from kith.parties.services.merge import customer_merge
from kith.parties.tests.factories import company, person
from kith.parties.tests.test_digest import _parts, _subject
from kith.security.testing import make_user
from kith.webhooks import events, services
from kith.webhooks.choices import DeliveryStatus
from kith.webhooks.models import Webhook, WebhookDelivery
from kith.webhooks.services import delivery
from kith.webhooks.tasks import send_deliveries

pytestmark = pytest.mark.django_db


def _hook(
    actor: Any, receiver: Any, event_types: list[str] | None = None, **data: Any
) -> tuple[Webhook, str]:
    return services.webhook_create(
        actor=actor,
        data={"name": "ERP", "url": receiver.url, "event_types": event_types or ["*"], **data},
    )


def _verified(secret: str, request: Any) -> bool:
    """What a receiver does with Kith-Signature (the docs show the same)."""
    parts = dict(item.split("=", 1) for item in request.headers["kith-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


def _run_queued_sends() -> int:
    sent = 0
    for task in DBTaskResult.objects.filter(task_path="kith.webhooks.tasks.send_deliveries").order_by("pk"):
        sent += send_deliveries.call(*task.args_kwargs["args"])
        task.delete()
    return sent


def test_a_customer_change_reaches_the_receiver_signed(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    webhook, secret = _hook(admin_user, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        customer = person(
            admin_user, family_name="Lovelace", given_name="Ada", phones=[{"number": "+44 20 7946 0000"}]
        )
    # the customer, its phone and its derived dates are one event, queued as a task at the commit
    row = WebhookDelivery.objects.get()
    assert (row.event_type, row.subject_type, row.subject_id) == (
        "customer.created",
        "parties.customer",
        str(customer.pk),
    )
    assert "phones" in row.changed
    assert _run_queued_sends() == 1

    (request,) = receiver.requests
    assert request.path == "/hooks/kith?source=test"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Kith-Webhooks/1"
    assert request.headers["kith-event"] == "customer.created"
    assert request.headers["kith-delivery"] == str(row.uuid)
    assert _verified(secret, request)
    assert not _verified("whsec_wrong", request)
    body = request.json
    assert body["id"] == str(row.event_id) and body["type"] == "customer.created"
    assert body["created"].endswith("Z")
    obj = body["data"]["object"]
    assert (obj["customer_number"], obj["display_name"]) == (customer.customer_number, customer.display_name)
    assert [p["number"] for p in obj["phones"]] == ["+442079460000"]  # the superuser sees it unmasked
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert row.duration_ms is not None and row.delivered_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        parties.customer_update(
            actor=admin_user, customer=customer, expected_version=customer.version, data={"notes": "VIP"}
        )
    assert _run_queued_sends() == 1
    update = receiver.requests[1]
    assert _verified(secret, update)
    assert update.json["type"] == "customer.updated"
    assert update.json["data"]["changed"] == ["notes"]
    assert update.json["data"]["object"]["notes"] == "VIP"
    webhook.refresh_from_db()
    assert (webhook.consecutive_failures, webhook.last_delivery_status) == (0, DeliveryStatus.SUCCEEDED)


def test_a_rolled_back_change_sends_nothing(admin_user, receiver):
    _hook(admin_user, receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        person(admin_user, family_name="Ghost")
        assert WebhookDelivery.objects.count() == 1  # written with the change ...
        raise RuntimeError("the request failed after the write")
    assert WebhookDelivery.objects.count() == 0  # ... and gone with it
    assert delivery.deliver_due() == 0
    assert receiver.requests == []


def test_only_subscribed_events_are_written(admin_user, receiver):
    _hook(admin_user, receiver, ["interaction.created"])
    customer = company(admin_user)
    assert WebhookDelivery.objects.count() == 0
    parties.interaction_create(actor=admin_user, customer=customer, data={"kind": "call", "subject": "Hello"})
    row = WebhookDelivery.objects.get()
    assert row.event_type == "interaction.created"
    delivery.deliver_due()
    assert receiver.requests[0].json["data"]["object"]["subject"] == "Hello"


def test_a_failing_receiver_is_retried_then_given_up_and_the_webhook_disabled(
    admin_user,
    receiver,
    settings,
    smtp,
    django_capture_on_commit_callbacks,
):
    settings.KITH_WEBHOOK_RETRY_SECONDS = [60, 300]
    settings.KITH_WEBHOOK_DISABLE_AFTER = 3
    owner = make_user("ops", "administrator", email="ops@example.com")
    webhook, _secret = _hook(owner, receiver)
    receiver.statuses = [500, 500, 500]
    company(admin_user, legal_name="Flaky Receivers Ltd")
    row = WebhookDelivery.objects.get()
    start = timezone.now()

    assert delivery.deliver_due(now=start) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code) == (DeliveryStatus.PENDING, 1, 500)
    assert "receiver says no" in row.last_error
    assert row.next_attempt_at == start + dt.timedelta(seconds=60)
    assert delivery.deliver_due(now=start + dt.timedelta(seconds=59)) == 0  # not due yet

    assert delivery.deliver_due(now=start + dt.timedelta(seconds=61)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 2)
    assert row.next_attempt_at == start + dt.timedelta(seconds=61 + 300)

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.deliver_due(now=start + dt.timedelta(seconds=400)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (DeliveryStatus.ABANDONED, 3, None)
    # the same body and delivery id every time, each freshly signed
    assert len({r.body for r in receiver.requests}) == 1
    assert {r.headers["kith-delivery"] for r in receiver.requests} == {str(row.uuid)}

    webhook.refresh_from_db()
    assert not webhook.active and webhook.disabled_at is not None
    assert webhook.consecutive_failures == 3 and "500" in webhook.disabled_reason
    disabled = AuditEntry.objects.filter(object_type="webhooks.webhook", object_id=str(webhook.pk)).last()
    assert disabled is not None and disabled.changes["active"] == [True, False]
    ((recipients, message),) = smtp.messages
    assert set(recipients) == {"ops@example.com", "root@example.com"}
    assert _subject(message) == "Kith: the webhook “ERP” was disabled"
    text, _html = _parts(message)
    assert f"/webhooks/{webhook.pk}/" in text and "500" in text

    # nothing more is written or sent for a disabled webhook
    company(admin_user, legal_name="After The Fact Ltd")
    assert WebhookDelivery.objects.count() == 1
    assert delivery.deliver_due(now=start + dt.timedelta(days=3)) == 0

    services.webhook_enable(actor=admin_user, webhook=webhook)
    webhook.refresh_from_db()
    assert webhook.active and webhook.consecutive_failures == 0 and webhook.disabled_at is None


def test_a_success_resets_the_failures_and_a_redirect_is_a_failure(admin_user, receiver):
    settings_delays = delivery.retry_delays()
    webhook, _secret = _hook(admin_user, receiver)
    receiver.statuses = [302, 200]
    company(admin_user)
    start = timezone.now()
    delivery.deliver_due(now=start)
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 1
    assert len(receiver.requests) == 1  # the redirect was not followed
    delivery.deliver_due(now=start + dt.timedelta(seconds=settings_delays[0]))
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 0
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_the_owner_sees_only_their_customers_and_masked_fields(admin_user, receiver):
    lead = make_user("lead", "sales_manager")
    rep = make_user("rep", "sales_rep", manager=lead)
    stranger = make_user("stranger", "sales_rep")
    _hook(admin_user, receiver, ["customer.created"], owner=lead)  # a superuser may name the owner
    mine = person(
        rep,
        family_name="Visible",
        id_document_number="110101199003121234",
        phones=[{"number": "+86 138 0013 8000"}],
    )
    person(stranger, family_name="Invisible")  # not in the lead's reach: no event for them
    (row,) = WebhookDelivery.objects.all()
    assert row.subject_id == str(mine.pk)
    delivery.deliver_due()
    obj = receiver.requests[0].json["data"]["object"]
    assert obj["family_name"] == "Visible"
    assert obj["id_document_number"].startswith("1101") and "*" in obj["id_document_number"]
    assert "8000" in obj["phones"][0]["number"] and "*" in obj["phones"][0]["number"]
    assert {"id_document_number", "phones"} <= set(obj["masked_fields"])


def test_a_record_the_owner_no_longer_sees_at_sending_time_is_not_sent(admin_user, receiver):
    lead = make_user("lead", "sales_manager")
    other = make_user("other", "sales_manager")
    _hook(admin_user, receiver, owner=lead)
    customer = company(lead, legal_name="Moving Away Ltd")
    parties.customer_update(
        actor=admin_user, customer=customer, expected_version=customer.version, data={"owner": other.pk}
    )
    assert WebhookDelivery.objects.count() == 1  # the move itself is not the lead's to see
    delivery.deliver_due()
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SKIPPED


def test_a_deletion_is_sent_with_who_was_deleted(admin_user, receiver):
    customer = person(admin_user, family_name="Gone", phones=[{"number": "+44 20 7946 0001"}])
    pk = customer.pk
    _hook(admin_user, receiver)
    with transaction.atomic():
        parties.customer_update(
            actor=admin_user, customer=customer, expected_version=customer.version, data={"notes": "bye"}
        )
        parties.customer_delete(actor=admin_user, customer=customer)
    # the update of the same transaction is dropped: the receiver hears of the deletion only
    (row,) = WebhookDelivery.objects.all()
    assert row.event_type == "customer.deleted"
    delivery.deliver_due()
    body = receiver.requests[0].json
    assert body["type"] == "customer.deleted"
    assert body["data"]["object"] == {
        "id": pk,
        "customer_number": customer.customer_number,
        "kind": "person",
        "display_name": customer.display_name,
    }


def test_a_merge_tells_which_number_was_merged(admin_user, receiver):
    survivor = company(admin_user, legal_name="Acme Trading Ltd")
    merged = company(admin_user, legal_name="ACME Trading Limited")
    _hook(admin_user, receiver, ["customer.merged"])
    customer_merge(
        actor=admin_user,
        survivor=survivor,
        merged=merged,
        survivor_version=survivor.version,
        merged_version=merged.version,
    )
    (row,) = WebhookDelivery.objects.all()
    delivery.deliver_due()
    body = receiver.requests[0].json
    assert body["data"]["object"]["customer_number"] == survivor.customer_number
    assert body["data"]["merged_customer_number"] == merged.customer_number
    assert row.event_type == "customer.merged"


def test_ping_and_redeliver(admin_user, receiver):
    webhook, secret = _hook(admin_user, receiver)
    ping = services.webhook_ping(actor=admin_user, webhook=webhook)
    assert ping.status == DeliveryStatus.SUCCEEDED
    assert receiver.requests[0].headers["kith-event"] == "ping"
    assert _verified(secret, receiver.requests[0])

    receiver.statuses = [500]
    failed = services.webhook_ping(actor=admin_user, webhook=webhook)
    assert failed.status == DeliveryStatus.FAILED and failed.last_response_code == 500  # not retried
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 0  # a test does not count against the receiver

    copy = services.delivery_redeliver(actor=admin_user, delivery_row=ping)
    assert copy.event_id == ping.event_id and copy.uuid != ping.uuid
    delivery.send([copy.pk])
    assert receiver.requests[-1].body == receiver.requests[0].body
    assert receiver.requests[-1].headers["kith-delivery"] == str(copy.uuid)
    with pytest.raises(ValidationError):
        pending = WebhookDelivery.objects.create(webhook=webhook, event_type="ping")
        services.delivery_redeliver(actor=admin_user, delivery_row=pending)


def test_a_due_delivery_is_claimed_by_one_worker_only(admin_user, receiver):
    _hook(admin_user, receiver)
    company(admin_user)
    row = WebhookDelivery.objects.get()
    first = delivery.claim(row.pk)
    assert first is not None and first.attempts == 1
    assert delivery.claim(row.pk) is None  # a second worker finds it taken (its lease runs)
    later = timezone.now() + delivery.lease() + dt.timedelta(seconds=1)
    again = delivery.claim(row.pk, now=later)  # the first worker died: due again after the lease
    assert again is not None and again.attempts == 2


def test_the_scheduler_queues_the_pickup_when_something_is_due(admin_user, receiver):
    _hook(admin_user, receiver)
    assert dict(run_periodic())["webhooks.due"] == 0
    company(admin_user)
    assert dict(run_periodic())["webhooks.due"] == 1
    assert DBTaskResult.objects.filter(task_path="kith.webhooks.tasks.deliver_due_webhooks").count() == 1


def test_private_addresses_are_refused_unless_allowed(admin_user, receiver, settings):
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1:9/",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a00:5]/",  # NAT64 of 10.0.0.5
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of 169.254.169.254
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[::a9fe:a9fe]/",  # IPv4-compatible 169.254.169.254
        "http://[fec0::1]/",  # site-local
        "http://0.0.0.0/",
    ):
        with pytest.raises(ValidationError) as refused:
            services.webhook_create(actor=admin_user, data={"name": "x", "url": url, "event_types": ["*"]})
        assert "KITH_WEBHOOK_ALLOW_PRIVATE" in refused.value.message_dict["url"][0], url
    with pytest.raises(ValidationError) as refused:
        services.webhook_create(
            actor=admin_user, data={"name": "x", "url": "http://10.1.2.3/", "event_types": ["*"]}
        )
    assert refused.value.message_dict["url"][0].startswith("10.1.2.3 is a private")
    with pytest.raises(ValidationError) as refused:
        services.webhook_create(
            actor=admin_user, data={"name": "x", "url": "http://localhost/", "event_types": ["*"]}
        )
    assert refused.value.message_dict["url"][0].startswith("localhost leads to ")
    for url, words in (
        ("ftp://example.com/", "http://"),
        ("https://user:pw@93.184.215.14/", "password"),
        ("not a url", "http://"),
    ):
        with pytest.raises(ValidationError) as refused:
            services.webhook_create(actor=admin_user, data={"name": "x", "url": url, "event_types": ["*"]})
        assert words in refused.value.message_dict["url"][0], url
    public, _secret = services.webhook_create(
        actor=admin_user, data={"name": "x", "url": "https://93.184.215.14/hook", "event_types": ["*"]}
    )
    assert public.pk
    assert Webhook.objects.count() == 1

    # checked again when sending: a receiver saved while allowed is not called once it is not
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = True
    webhook, _secret = _hook(admin_user, receiver)
    settings.KITH_WEBHOOK_ALLOW_PRIVATE = False
    result = services.webhook_ping(actor=admin_user, webhook=webhook)
    assert result.status == DeliveryStatus.FAILED and "KITH_WEBHOOK_ALLOW_PRIVATE" in result.last_error
    assert receiver.requests == []


def test_the_secret_is_encrypted_at_rest_and_not_in_the_audit_trail(admin_user, receiver):
    webhook, secret = _hook(admin_user, receiver)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhook WHERE id = %s", [webhook.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc1:") and secret not in stored
    _webhook, rotated = services.webhook_rotate_secret(actor=admin_user, webhook=webhook)
    assert rotated != secret and Webhook.objects.get().secret == rotated
    entries = AuditEntry.objects.filter(object_type="webhooks.webhook")
    assert [e.changes["secret"] for e in entries] == ["(changed)", "(changed)"]
    assert not any(secret in str(e.changes) or rotated in str(e.changes) for e in entries)


def test_without_an_active_webhook_writes_ask_nothing_more(admin_user, receiver):
    webhook, _secret = _hook(admin_user, receiver, ["customer.created"])
    services.webhook_update(actor=admin_user, webhook=webhook, data={"active": False})
    company(admin_user, legal_name="Warm Up Ltd")  # the wanted event types are read once ...
    with CaptureQueriesContext(connection) as queries:
        company(admin_user, legal_name="Quiet Times Ltd")  # ... and not again for a while
    assert not [q["sql"] for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert WebhookDelivery.objects.count() == 0


def test_events_are_the_registered_ones(admin_user, receiver):
    codes = {t.code for t in events.event_types()}
    assert {
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.merged",
        "interaction.created",
        "interaction.updated",
        "interaction.deleted",
        "relationship.created",
        "relationship.deleted",
        "import.finished",
        "export.finished",
    } <= codes
    with pytest.raises(ValidationError) as refused:
        _hook(admin_user, receiver, ["customer.exploded"])
    assert "customer.exploded" in refused.value.message_dict["event_types"][0]


def test_the_documented_receiver_check_accepts_kiths_signature(admin_user, receiver):
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "docs" / "architecture.md").read_text()
    code = text.split("**Verifying an event**", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 -- the ten lines the docs give receivers
    webhook, secret = _hook(admin_user, receiver)
    services.webhook_ping(actor=admin_user, webhook=webhook)
    (request,) = receiver.requests
    assert namespace["verify"](secret, request.body, request.headers["kith-signature"])
    assert not namespace["verify"](secret, request.body + b" ", request.headers["kith-signature"])
    assert delivery.verify(secret, request.body, request.headers["kith-signature"])
