"""Admin-defined data-quality rules; what each kind checks lives in ``services.quality``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel


class DataQualityRule(TimestampedModel):
    """One check over the customers: ``kind`` is a key of ``services.quality.KINDS``; ``params`` its
    settings (``{"field": ...}``, ``{"years": N}``, ``{"key": ...}``)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30)
    params = models.JSONField(_("settings"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("data-quality rule")
        verbose_name_plural = _("data-quality rules")

    def __str__(self) -> str:
        return self.name
