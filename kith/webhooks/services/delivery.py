"""Sending deliveries: signing, one attempt, retries with backoff, giving up, disabling a failing webhook.

A delivery is claimed before it is sent with one conditional UPDATE (``status = pending AND
next_attempt_at <= now``, which moves ``next_attempt_at`` a lease ahead and counts the attempt), so any
number of workers and schedulers can pick up the same due rows on SQLite and PostgreSQL alike and each is
sent by one of them; a worker that dies mid-attempt leaves the row due again when the lease ends. The new
deliveries of a transaction are queued as a task after its commit; ``deliver_due`` (queued by
``kith schedule`` every minute) sends whatever is due: retries, and rows whose task was never queued.

Each attempt POSTs the body with ``Kith-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "t.body")>``
(for ``KITH_WEBHOOK_SECRET_GRACE_SECONDS`` after a rotation, a second ``v1`` made with the previous secret).
Any 2xx is a success; anything else (redirects included: they are not followed), a refused address, a
timeout or a connection error is a failure, retried after ``KITH_WEBHOOK_RETRY_SECONDS`` (one delay per
retry) and then given up (``abandoned``). A success resets the webhook's failures in a row; when a delivery
is given up and the webhook has failed ``KITH_WEBHOOK_DISABLE_AFTER`` times in a row, it is disabled, its
pending deliveries are given up, and its owner and the administrators get an email.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import http.client
import logging
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.audit.choices import AccessKind, Source
from kith.audit.context import audit_context
from kith.audit.services import log_access
from kith.core.links import absolute
from kith.webhooks import events
from kith.webhooks.choices import PING, DeliveryStatus
from kith.webhooks.models import Webhook, WebhookDelivery
from kith.webhooks.services import addresses

log = logging.getLogger(__name__)

USER_AGENT = "Kith-Webhooks/1"
DEFAULT_RETRIES = (60, 300, 1800, 7200, 21600, 43200, 86400)
ERROR_LENGTH = 500
TASK_CHUNK = 100


# --- settings ---------------------------------------------------------------------------------------


def timeout() -> float:
    return float(getattr(settings, "KITH_WEBHOOK_TIMEOUT", 10))


def retry_delays() -> list[int]:
    return [int(s) for s in getattr(settings, "KITH_WEBHOOK_RETRY_SECONDS", DEFAULT_RETRIES)]


def disable_after() -> int:
    return int(getattr(settings, "KITH_WEBHOOK_DISABLE_AFTER", 10))


def lease() -> dt.timedelta:
    """How long a claimed attempt may take before the row is due again (the worker died)."""
    return dt.timedelta(seconds=2 * timeout() + 60)


def secret_grace() -> dt.timedelta:
    """How long the previous secret still signs events after a rotation."""
    return dt.timedelta(seconds=int(getattr(settings, "KITH_WEBHOOK_SECRET_GRACE_SECONDS", 86400)))


# --- signatures -------------------------------------------------------------------------------------


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signing_secrets(webhook: Webhook, *, now: dt.datetime) -> list[str]:
    """The secrets an attempt at ``now`` signs with: the current one, and the previous one during the
    grace period after a rotation."""
    if webhook.previous_secret_accepted_until(now) is not None:
        return [webhook.secret, webhook.previous_secret]
    return [webhook.secret]


def signature(secrets: Sequence[str], body: bytes, timestamp: int) -> str:
    """The ``Kith-Signature`` header value: ``t=<timestamp>``, then a ``v1=<hmac>`` per secret."""
    return ",".join([f"t={timestamp}", *(f"v1={_digest(secret, body, timestamp)}" for secret in secrets)])


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (``docs/architecture.md`` has the same in ten lines): one of the HMACs matches
    and the timestamp is recent (a replayed old request is refused)."""
    pairs = [item.split("=", 1) for item in header.split(",") if "=" in item]
    try:
        timestamp = int(next(value for key, value in pairs if key == "t"))
    except (StopIteration, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = _digest(secret, body, timestamp)
    return any(hmac.compare_digest(expected, value) for key, value in pairs if key == "v1")


# --- the HTTP request -------------------------------------------------------------------------------


class _CheckedConnection(http.client.HTTPConnection):
    """Connects to the addresses that were checked, never to what a second DNS lookup says."""

    checked_addresses: list[str] = []

    def connect(self) -> None:
        error: OSError | None = None
        for address in self.checked_addresses:
            try:
                self.sock = socket.create_connection(
                    (address, self.port), self.timeout, getattr(self, "source_address", None)
                )
            except OSError as exc:
                error = exc
                continue
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return
        raise error or OSError("no address to connect to")


class _CheckedHTTPSConnection(http.client.HTTPSConnection, _CheckedConnection):
    """TLS over the checked connection; the certificate is verified against the URL's host name."""


@dataclass
class Outcome:
    status: int | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    from urllib.parse import urlsplit

    started = time.monotonic()
    outcome = Outcome()
    try:
        checked = addresses.resolve(url)
        parts = urlsplit(url)
        scheme, host, port = addresses.split(url)
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _CheckedHTTPSConnection(
                host, port, timeout=timeout(), context=ssl.create_default_context()
            )
        else:
            connection = _CheckedConnection(host, port, timeout=timeout())
        connection.checked_addresses = checked  # type: ignore[attr-defined]
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            outcome.status = response.status
            if not outcome.ok:
                text = response.read(ERROR_LENGTH).decode("utf-8", "replace").strip()
                reason = f"HTTP {response.status} {response.reason}".strip()
                outcome.error = f"{reason}: {text}" if text else reason
        finally:
            connection.close()
    except addresses.UnsafeAddress as exc:
        outcome.error = " ".join(exc.messages)
    except TimeoutError:
        outcome.error = _("No answer within %(seconds)s seconds.") % {"seconds": f"{timeout():g}"}
    except (OSError, http.client.HTTPException, ValueError) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    outcome.error = outcome.error[:ERROR_LENGTH]
    return outcome


# --- claiming and attempting ------------------------------------------------------------------------


def claim(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Take a due delivery for this process (None: not due, finished, or taken by another)."""
    now = now or timezone.now()
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + lease(), attempts=F("attempts") + 1)
    if not taken:
        return None
    return WebhookDelivery.objects.select_related("webhook__owner").get(pk=delivery_id)


def _close(delivery: WebhookDelivery, **values: Any) -> WebhookDelivery:
    for name, value in values.items():
        setattr(delivery, name, value)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**values)
    return delivery


def attempt(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """Send a claimed delivery once and record what happened."""
    now = now or timezone.now()
    webhook = delivery.webhook
    is_ping = delivery.event_type == PING
    if not webhook.active and not is_ping:
        return _close(
            delivery,
            status=DeliveryStatus.ABANDONED,
            next_attempt_at=None,
            last_error=_("The webhook is disabled."),
        )
    outcome: Outcome | None = None
    if not delivery.body:
        try:
            body = events.render_body(delivery, webhook.owner)
        except Exception:  # a renderer's bug: retried like a failed attempt, not held against the receiver
            log.exception("webhook delivery %s could not be prepared", delivery.pk)
            outcome = Outcome(error=_("The event could not be prepared; see the server's log."))
        else:
            if body is None:
                return _close(
                    delivery,
                    status=DeliveryStatus.SKIPPED,
                    next_attempt_at=None,
                    last_error=_("The webhook's owner may not see this record (or it no longer exists)."),
                )
            _close(delivery, body=body)
    if outcome is None:
        raw = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Kith-Event": delivery.event_type,
            "Kith-Delivery": str(delivery.uuid),
            "Kith-Signature": signature(signing_secrets(webhook, now=now), raw, int(time.time())),
        }
        outcome = _post(webhook.url, raw, headers)
        receiver_failed = True
    else:
        receiver_failed = False
    values: dict[str, Any] = {
        "last_response_code": outcome.status,
        "last_error": outcome.error,
        "duration_ms": outcome.duration_ms,
    }
    if outcome.ok:
        with transaction.atomic():  # delivered and in the access log, or (retried) neither
            _close(
                delivery, status=DeliveryStatus.SUCCEEDED, next_attempt_at=None, delivered_at=now, **values
            )
            if not is_ping:
                Webhook.objects.filter(pk=webhook.pk).update(
                    consecutive_failures=0,
                    last_delivery_at=now,
                    last_delivery_status=DeliveryStatus.SUCCEEDED,
                )
                _log_disclosure(delivery)
        return delivery
    delays = retry_delays()
    if is_ping:
        return _close(delivery, status=DeliveryStatus.FAILED, next_attempt_at=None, **values)
    if delivery.attempts <= len(delays):
        retry_at = now + dt.timedelta(seconds=delays[delivery.attempts - 1])
        _close(delivery, status=DeliveryStatus.PENDING, next_attempt_at=retry_at, **values)
    else:
        _close(delivery, status=DeliveryStatus.ABANDONED, next_attempt_at=None, **values)
    if not receiver_failed:
        return delivery
    Webhook.objects.filter(pk=webhook.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        last_delivery_at=now,
        last_delivery_status=delivery.status,
    )
    if delivery.status == DeliveryStatus.ABANDONED:
        failures = (
            Webhook.objects.filter(pk=webhook.pk).values_list("consecutive_failures", flat=True).first()
        )
        if failures is not None and failures >= disable_after():
            disable(
                webhook.pk,
                reason=_("%(count)s failed attempts in a row; the last one: %(error)s")
                % {"count": failures, "error": outcome.error},
                now=now,
            )
    return delivery


def _log_disclosure(delivery: WebhookDelivery) -> None:
    """Customer data sent to a receiver is a disclosure like an export: in the access log, by the
    webhook's owner (whose eyes the webhook sees through), source ``webhook``."""
    customer_ids = events.disclosed_customers(delivery)
    if not customer_ids:
        return
    owner = delivery.webhook.owner
    with audit_context(source=Source.WEBHOOK, actor=owner):
        log_access(
            owner,
            AccessKind.EXPORT,
            customer_ids=customer_ids,
            filters={"webhook": delivery.webhook_id, "event": delivery.event_type},
        )


def send(delivery_ids: Iterable[int]) -> int:
    """Send these deliveries now if they are due and no one else has them; return how many were sent."""
    sent = 0
    for pk in delivery_ids:
        delivery = claim(pk)
        if delivery is not None:
            attempt(delivery)
            sent += 1
    return sent


def deliver_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The pickup: send the deliveries whose (next) attempt is due, oldest first."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        delivery = claim(pk, now=now)
        if delivery is not None:
            attempt(delivery, now=now)
            sent += 1
    return sent


def any_due(now: dt.datetime | None = None) -> bool:
    return WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now or timezone.now()
    ).exists()


def enqueue(delivery_ids: list[int]) -> None:
    """Queue tasks sending these deliveries (after the commit that wrote them)."""
    from kith.webhooks.tasks import send_deliveries

    for start in range(0, len(delivery_ids), TASK_CHUNK):
        try:
            send_deliveries.enqueue(delivery_ids[start : start + TASK_CHUNK])
        except Exception:  # the pickup sends them within a minute
            log.exception("could not queue webhook deliveries")


def enqueue_due() -> int:
    """``kith schedule``: queue the pickup when something is due (one indexed query when nothing is)."""
    from kith.webhooks.tasks import deliver_due_webhooks

    if not any_due():
        return 0
    deliver_due_webhooks.enqueue()
    return 1


def purge(now: dt.datetime | None = None) -> int:
    """Delete finished deliveries older than ``KITH_WEBHOOK_KEEP_DAYS`` (their bodies hold personal data)."""
    days = int(getattr(settings, "KITH_WEBHOOK_KEEP_DAYS", 30))
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _rows = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=DeliveryStatus.PENDING).delete()
    )
    return deleted


# --- disabling --------------------------------------------------------------------------------------


def abandon_pending(webhook_id: int, reason: str) -> int:
    return WebhookDelivery.objects.filter(webhook_id=webhook_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.ABANDONED, next_attempt_at=None, last_error=reason[:ERROR_LENGTH]
    )


def disable(webhook_id: int, *, reason: str, now: dt.datetime | None = None) -> bool:
    """Disable a failing webhook (audited: a save of the webhook), give up its pending deliveries and
    email its owner and the administrators; False when it was disabled already."""
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
        if webhook is None or not webhook.active:
            return False
        webhook.active = False
        webhook.disabled_at = now or timezone.now()
        webhook.disabled_reason = reason[:300]
        webhook.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
        abandon_pending(webhook.pk, _("The webhook was disabled."))
        transaction.on_commit(functools.partial(_notify_disabled, webhook.pk))
    return True


def recipients_for(webhook: Webhook) -> list[str]:
    """The owner and everyone who administers webhooks (superusers included), active, with an address."""
    from kith.security.models import Role, User

    wanted = "webhook.administer"
    role_ids = [pk for pk, perms in Role.objects.values_list("pk", "permissions") if wanted in (perms or [])]
    admins = User.objects.filter(is_active=True).filter(roles__in=role_ids) | User.objects.filter(
        is_active=True, is_superuser=True
    )
    found = [webhook.owner.email] if webhook.owner.is_active else []
    found += [u.email for u in admins.distinct().order_by("pk")]
    return [address for address in dict.fromkeys(found) if address]


def _notify_disabled(webhook_id: int) -> list[str]:
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils import translation

    try:
        webhook = Webhook.objects.select_related("owner").get(pk=webhook_id)
        recipients = recipients_for(webhook)
        if not recipients:
            return []
        link = absolute(reverse("webhooks:detail", args=[webhook.pk]))
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Kith: the webhook “%(name)s” was disabled") % {"name": webhook.name}
            body = _(
                "The webhook “%(name)s” (%(url)s) was disabled: %(reason)s\n\n"
                "Its pending events were given up. Fix the receiver, then enable the webhook again "
                "(and redeliver the events it missed) at %(link)s\n"
            ) % {"name": webhook.name, "url": webhook.url, "reason": webhook.disabled_reason, "link": link}
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        return recipients
    except Exception:  # the webhook is disabled either way; the page says so
        log.exception("could not email about disabled webhook %s", webhook_id)
        return []
