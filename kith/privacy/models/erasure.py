"""The record that a person's identity was erased (a customer's, or a lead's when the person is not a
customer): when, by whom, why. Its existence is the flag."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.privacy.choices import ErasureVia


class ErasureRecord(models.Model):
    customer = models.OneToOneField(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="erasure",
        verbose_name=_("customer"),
        null=True,
        blank=True,
    )
    # a person known only as a lead (``customer`` empty); kept if the lead is deleted later
    lead = models.OneToOneField(
        "sales.Lead",
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lead"),
        null=True,
        blank=True,
    )
    erased_at = models.DateTimeField(_("erased"))
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    via = models.CharField(_("how"), max_length=20, choices=ErasureVia.choices, default=ErasureVia.MANUAL)
    rule = models.ForeignKey(
        "privacy.RetentionRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="erasures"
    )
    # what was removed, as counts (never the values): {"phones": 2, "interactions_redacted": 5, ...}
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        indexes = [models.Index(fields=["erased_at"], name="erasure_when_idx")]

    def __str__(self) -> str:
        who = self.customer_id if self.customer_id is not None else f"lead {self.lead_id}"
        return f"{who} erased {self.erased_at:%Y-%m-%d}"
