"""Every change to webhooks: create, change, delete, rotate the secret, enable, test, redeliver.

Only holders of ("webhook", "administer") manage webhooks. A webhook sees through its owner's eyes (the
events and fields its owner may see); the owner is whoever creates it or points it at a new URL, and only a
superuser may name another account, so no one can route data they may not see to an address of theirs.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.security.rules import ADMINISTER, require_permission
from kith.webhooks import events
from kith.webhooks.choices import ALL_EVENTS, PING, DeliveryStatus
from kith.webhooks.models import Webhook, WebhookDelivery
from kith.webhooks.services import addresses, delivery

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the prefix of generated secrets, not a secret
OBJECT_TYPE = "webhook"


def require_admin(actor: Any) -> None:
    require_permission(actor, OBJECT_TYPE, ADMINISTER)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _forget_on_commit() -> None:
    events.forget()
    transaction.on_commit(events.forget)


def _clean(actor: Any, data: dict[str, Any], *, base: Webhook | None) -> dict[str, Any]:
    """Validated values for the fields ``data`` names (all of them when creating)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if base is None or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("Give the webhook a name (what receives it).")]
        elif len(name) > 100:
            errors["name"] = [_("At most 100 characters.")]
        values["name"] = name
    if base is None or "url" in data:
        try:
            values["url"] = addresses.check(str(data.get("url") or ""))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if base is None or "event_types" in data:
        raw = data.get("event_types") or []
        chosen = sorted({str(t) for t in (raw if isinstance(raw, list | tuple) else [raw])})
        unknown = [t for t in chosen if t != ALL_EVENTS and not events.is_known(t)]
        if unknown:
            errors["event_types"] = [_("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)}]
        elif not chosen:
            errors["event_types"] = [_("Choose at least one event type.")]
        values["event_types"] = [ALL_EVENTS] if ALL_EVENTS in chosen else chosen
    if "owner" in data and data["owner"] is not None:
        owner = data["owner"]
        if not isinstance(owner, get_user_model()):
            owner = get_user_model().objects.filter(pk=owner).first()
        current = base.owner_id if base is not None else actor.pk
        if owner is None or not owner.is_active:
            errors["owner"] = [_("Choose an active account.")]
        elif owner.pk not in (current, actor.pk) and not actor.is_superuser:
            errors["owner"] = [_("Only a superuser may make a webhook see through another account's eyes.")]
        else:
            values["owner"] = owner
    if base is not None and "active" in data:
        values["active"] = bool(data["active"])
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def webhook_create(*, actor: Any, data: dict[str, Any]) -> tuple[Webhook, str]:
    """A new webhook and its signing secret (shown once)."""
    require_admin(actor)
    values = _clean(actor, data, base=None)
    values.setdefault("owner", actor)
    secret = new_secret()
    webhook = Webhook.objects.create(secret=secret, created_by=actor, **values)
    _forget_on_commit()
    return webhook, secret


@transaction.atomic
def webhook_update(*, actor: Any, webhook: Webhook, data: dict[str, Any]) -> Webhook:
    require_admin(actor)
    values = _clean(actor, data, base=webhook)
    if values.get("url", webhook.url) != webhook.url and "owner" not in values and not actor.is_superuser:
        values["owner"] = actor  # who points the webhook somewhere new is the one whose eyes it sees through
    if values.get("active") and not webhook.active:
        values.update(consecutive_failures=0, disabled_at=None, disabled_reason="")
    owner_before = webhook.owner_id
    for name, value in values.items():
        setattr(webhook, name, value)
    webhook.save()
    if webhook.owner_id != owner_before:
        # bodies made through the previous owner's eyes must not reach the new owner's receiver: pending
        # ones are made again when sent, a redelivery makes its body anew (a deleted record's event then
        # tells only its id)
        WebhookDelivery.objects.filter(webhook=webhook).update(body="")
    if not webhook.active:
        delivery.abandon_pending(webhook.pk, _("The webhook was switched off."))
    _forget_on_commit()
    return webhook


@transaction.atomic
def webhook_delete(*, actor: Any, webhook: Webhook) -> None:
    require_admin(actor)
    webhook.delete()
    _forget_on_commit()


@transaction.atomic
def webhook_rotate_secret(
    *, actor: Any, webhook: Webhook, now: dt.datetime | None = None
) -> tuple[Webhook, str]:
    """A new signing secret, in force at once (shown once). For ``KITH_WEBHOOK_SECRET_GRACE_SECONDS`` the
    secret it replaces still signs too (a second ``v1`` in Kith-Signature), so the receiver can switch
    without refusing events; rotating again within that time ends the older secret's grace."""
    require_admin(actor)
    locked = Webhook.objects.select_for_update().get(pk=webhook.pk)  # the secret being replaced is current
    grace = delivery.secret_grace()
    secret = new_secret()
    webhook.previous_secret = locked.secret if grace > dt.timedelta(0) else ""
    webhook.previous_secret_until = (now or timezone.now()) + grace if webhook.previous_secret else None
    webhook.secret = secret
    webhook.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return webhook, secret


@transaction.atomic
def webhook_enable(*, actor: Any, webhook: Webhook) -> Webhook:
    """Switch a (disabled) webhook on again, with its failures forgotten; missed events are not resent
    by themselves (redeliver the ones that matter)."""
    return webhook_update(actor=actor, webhook=webhook, data={"active": True})


def webhook_ping(*, actor: Any, webhook: Webhook) -> WebhookDelivery:
    """Send a test event now (also to a disabled webhook: to check a receiver before enabling it again)."""
    require_admin(actor)
    now = timezone.now()
    with transaction.atomic():
        row = WebhookDelivery(webhook=webhook, event_type=PING, subject_type="webhooks.webhook")
        row.subject_id = str(webhook.pk)
        row.body = events.compose(
            event_id=row.event_id,
            event_type=PING,
            created=now,
            obj={"id": webhook.pk, "name": webhook.name, "event_types": webhook.event_types},
        )
        row.created_at = row.next_attempt_at = now
        row.save()
    claimed = delivery.claim(row.pk, now=now)
    return delivery.attempt(claimed, now=now) if claimed is not None else row


@transaction.atomic
def delivery_redeliver(*, actor: Any, delivery_row: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery's event again (the same event id and body) as a new delivery. After the
    webhook changed hands the stored bodies are gone and the event is made again through the current
    owner's eyes."""
    require_admin(actor)
    webhook = delivery_row.webhook
    if delivery_row.status == DeliveryStatus.PENDING:
        raise ValidationError(_("This delivery is still waiting to be sent."))
    if not webhook.active:
        raise ValidationError(_("Enable the webhook first."))
    now = timezone.now()
    copy = WebhookDelivery.objects.create(
        webhook=webhook,
        event_id=delivery_row.event_id,
        event_type=delivery_row.event_type,
        subject_type=delivery_row.subject_type,
        subject_id=delivery_row.subject_id,
        changed=delivery_row.changed,
        details=delivery_row.details,
        body=delivery_row.body,
        created_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(functools.partial(delivery.enqueue, [copy.pk]))
    return copy
