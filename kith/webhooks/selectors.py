"""Reads of the webhooks app, for those who administer webhooks (every read checks it)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kith.security.rules import ADMINISTER, require_permission
from kith.webhooks import events
from kith.webhooks.models import Webhook, WebhookDelivery

RECENT = 50


def webhooks_for(user: Any) -> QuerySet[Webhook]:
    require_permission(user, "webhook", ADMINISTER)
    return Webhook.objects.select_related("owner").order_by("name", "pk")


def webhook_for(user: Any, pk: int) -> Webhook:
    webhook = webhooks_for(user).filter(pk=pk).first()
    if webhook is None:
        raise Http404
    return webhook


def deliveries_of(
    user: Any, webhook: Webhook, *, status: str = "", before: int | None = None, limit: int = RECENT
) -> list[WebhookDelivery]:
    """The webhook's deliveries, newest first (``before``: a keyset cursor, the last id of a page). The
    bodies are not read: they are what the owner sees, not what the reader may."""
    require_permission(user, "webhook", ADMINISTER)
    rows = WebhookDelivery.objects.filter(webhook=webhook).defer("body").order_by("-id")
    if status:
        rows = rows.filter(status=status)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    found = list(rows[:limit])
    for row in found:
        row.event_label = events.label_of(row.event_type)  # type: ignore[attr-defined]
    return found


def delivery_for(user: Any, webhook: Webhook, delivery_uuid: Any) -> WebhookDelivery:
    require_permission(user, "webhook", ADMINISTER)
    row = (
        WebhookDelivery.objects.select_related("webhook").filter(webhook=webhook, uuid=delivery_uuid).first()
    )
    if row is None:
        raise Http404
    return row


def event_type_choices() -> list[tuple[str, str]]:
    return [(t.code, f"{t.code} — {t.label}") for t in events.event_types()]
