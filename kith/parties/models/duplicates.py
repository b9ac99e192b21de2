"""Pairs of customers that are likely the same, worked out in the background (``services.duplicates``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("open")
    DISMISSED = "dismissed", _("not the same")
    MERGED = "merged", _("merged")


class DuplicateCandidate(models.Model):
    """One pair (``first_id`` < ``second_id``), its score (0-100) and why: ``reasons`` is a list of codes
    (``phone``, ``email``, ``id_number``, ``name``, ``name_address``)."""

    first = models.ForeignKey("parties.Customer", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("parties.Customer", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    found_at = models.DateTimeField(_("found"), auto_now=True)
    decided_by = models.ForeignKey(
        "security.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("first", "second"), name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=("status", "-score", "id"), name="duplicate_open_idx")]
        verbose_name = _("likely duplicate")
        verbose_name_plural = _("likely duplicates")

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id} ({self.score})"
