"""Webhooks (a receiver URL, its signing secret, the events it wants, whose eyes it sees through) and their
deliveries (the transactional outbox: one row per event per webhook, written with the change)."""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuid_module
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kith.core.crypto import EncryptedTextField
from kith.webhooks.choices import ALL_EVENTS, DeliveryStatus


class Webhook(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    # HMAC key of the Kith-Signature header; encrypted at rest (kith.core.crypto), shown once
    secret = EncryptedTextField(_("signing secret"))
    # the secret before the last rotation: it signs events too (a second v1) until previous_secret_until,
    # so the receiver can switch to the new one without refusing events meanwhile
    previous_secret = EncryptedTextField(_("previous signing secret"), blank=True, default="")
    previous_secret_until = models.DateTimeField(_("previous secret accepted until"), null=True, blank=True)
    event_types = models.JSONField(_("events"), default=list, help_text=_('Event types; "*" is every event.'))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sees as"),
        on_delete=models.PROTECT,
        related_name="webhooks",
        help_text=_("The webhook gets only the events and fields this account may see."),
    )
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    last_delivery_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    last_delivery_status = models.CharField(
        _("last delivery status"), max_length=16, choices=DeliveryStatus.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ("name", "id")
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.event_types or event_type in self.event_types

    def previous_secret_accepted_until(self, now: dt.datetime | None = None) -> dt.datetime | None:
        """Until when the secret before the last rotation still signs events (None: it no longer does)."""
        until = self.previous_secret_until
        if self.previous_secret and until is not None and (now or timezone.now()) < until:
            return until
        return None


class WebhookDelivery(models.Model):
    """One event for one webhook. Written in the transaction of the change it tells about; its body is
    made at the first attempt (as the owner may then see the record) and kept, so every retry sends the
    same bytes."""

    webhook = models.ForeignKey(
        Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries"
    )
    uuid = models.UUIDField(_("delivery id"), default=uuid_module.uuid4, unique=True, editable=False)
    event_id = models.UUIDField(_("event id"), default=uuid_module.uuid4, editable=False)
    event_type = models.CharField(_("event"), max_length=60)
    # what the event is about: "parties.customer" and its id (the record is read when the body is made)
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    changed = models.JSONField(_("changed fields"), default=list, blank=True)
    # what the event itself carries besides the record (a merge: the merged number; a finished job ...)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # the exact JSON body sent (encrypted: it may hold fields its owner sees unmasked); "" until made
    body = EncryptedTextField(_("body"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, default=timezone.now)
    last_response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # the pickup: pending rows whose next attempt is due, oldest first
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["webhook", "-id"], name="webhook_delivery_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.webhook_id}"

    @property
    def payload(self) -> dict[str, Any] | None:
        return json.loads(self.body) if self.body else None

    @property
    def is_finished(self) -> bool:
        return self.status != DeliveryStatus.PENDING
