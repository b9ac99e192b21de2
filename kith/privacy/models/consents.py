"""Consent purposes (an admin catalogue) and the append-only history of consents per customer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel
from kith.privacy.choices import ConsentChannel, ConsentStatus


class ConsentPurpose(TimestampedModel):
    """Why a customer may be contacted or their data used: marketing email, profiling, partner sharing ..."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("consent purpose")
        verbose_name_plural = _("consent purposes")

    def __str__(self) -> str:
        return self.name


class ConsentRecord(models.Model):
    """One statement of consent (given or withdrawn) for a purpose over a channel. Never updated: a
    withdrawal is a new record. ``is_current`` marks the latest record (by ``occurred_at``, then id) of
    its (customer, purpose, channel); a partial unique index keeps exactly one, so "may we contact" is one
    indexed lookup and the bulk filter one join."""

    customer = models.ForeignKey("parties.Customer", on_delete=models.CASCADE, related_name="consents")
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="records")
    channel = models.CharField(_("channel"), max_length=12, choices=ConsentChannel.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    occurred_at = models.DateTimeField(_("when"))
    evidence = models.TextField(_("source / evidence"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    is_current = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [
            models.Index(
                fields=["customer", "purpose", "channel", "-occurred_at", "-id"], name="consent_history_idx"
            ),
            # the bulk filter: customers whose current consent for (purpose, channel) is given
            models.Index(
                fields=["purpose", "channel", "status", "customer"],
                condition=Q(is_current=True),
                name="consent_current_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "purpose", "channel"],
                condition=Q(is_current=True),
                name="consent_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose_id} {self.channel} {self.status}"
