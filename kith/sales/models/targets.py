"""Sales targets: an amount to win in a currency over a period, for one user or one team. The forecast
(``kith.sales.selectors.forecast``) sets what was won and what is in the pipeline against them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel


class SalesTarget(TimestampedModel, VersionedModel):
    """What one user or one team (never both) should win from ``period_start`` to ``period_end`` (both
    days included). Targets of the same subject do not overlap (the service refuses it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    team = models.ForeignKey(
        "security.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-period_start", "id")
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True)
                | models.Q(user__isnull=True, team__isnull=False),
                name="sales_target_one_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="sales_target_period"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="sales_target_amount_gt_0"),
            models.UniqueConstraint(
                fields=["user", "period_start", "period_end"],
                condition=models.Q(user__isnull=False),
                name="sales_target_user_unique",
            ),
            models.UniqueConstraint(
                fields=["team", "period_start", "period_end"],
                condition=models.Q(team__isnull=False),
                name="sales_target_team_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or self.team_id}: {self.period_start}..{self.period_end} {self.amount} {self.currency}"
