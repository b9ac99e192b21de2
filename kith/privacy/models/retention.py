"""Retention rules ("customers with status X and no activity for N months") and the flags they raise."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel
from kith.parties.choices import CustomerStatus
from kith.privacy.choices import FlagState, RetentionAction


class RetentionRule(TimestampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    status = models.CharField(_("customer status"), max_length=10, choices=CustomerStatus.choices)
    inactive_months = models.PositiveSmallIntegerField(
        _("months without activity"), validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    action = models.CharField(
        _("action"), max_length=10, choices=RetentionAction.choices, default=RetentionAction.FLAG
    )
    grace_days = models.PositiveSmallIntegerField(
        _("days between flag and automatic anonymisation"),
        default=30,
        validators=[MinValueValidator(7), MaxValueValidator(3650)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")

    def __str__(self) -> str:
        return self.name


class RetentionFlag(models.Model):
    """A customer a rule matched: waiting for a human (open), kept after review, or erased."""

    rule = models.ForeignKey(RetentionRule, on_delete=models.CASCADE, related_name="flags")
    customer = models.ForeignKey("parties.Customer", on_delete=models.CASCADE, related_name="retention_flags")
    state = models.CharField(_("state"), max_length=10, choices=FlagState.choices, default=FlagState.OPEN)
    flagged_at = models.DateTimeField(_("flagged"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("retention flag")
        verbose_name_plural = _("retention flags")
        constraints = [
            models.UniqueConstraint(fields=["rule", "customer"], name="retentionflag_unique"),
        ]
        indexes = [models.Index(fields=["rule", "state", "customer"], name="retentionflag_state_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.customer_id} {self.state}"
