"""Contracts with a customer: term, value, renewal date and notice, and the signed document (a file kept
in the contract documents folder, not in the database)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    ACTIVE = "active", _("active")
    ENDED = "ended", _("ended")
    TERMINATED = "terminated", _("terminated")


@deconstructible
class ContractDocumentStorage(FileSystemStorage):
    """Files under ``MEDIA_ROOT/contracts`` (``MEDIA_ROOT`` unset: the instance folder's ``media``), never
    served by URL: the download page checks the reader first."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @cached_property
    def base_location(self) -> str:  # type: ignore[override]
        root = settings.MEDIA_ROOT or Path(getattr(settings, "INSTANCE_DIR", ".")) / "media"
        return os.path.join(str(root), "contracts")

    def url(self, name: Any) -> str:
        raise ValueError("contract documents have no public URL")


def document_path(instance: Any, filename: str) -> str:
    """A random name (the original is kept in ``document_name``): nothing a reader could guess."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{suffix}"


class Contract(TimestampedModel, VersionedModel):
    customer = models.ForeignKey(
        "parties.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contracts",
    )
    title = models.CharField(_("title"), max_length=200)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    notice_days = models.PositiveIntegerField(_("notice period (days)"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    # the renewal date the owner was last reminded of (a reminder goes out once per renewal)
    reminded_for = models.DateField(null=True, blank=True, editable=False)
    document = models.FileField(
        _("document"), storage=ContractDocumentStorage(), upload_to=document_path, blank=True, max_length=200
    )
    document_name = models.CharField(_("file name"), max_length=200, blank=True)
    document_type = models.CharField(max_length=100, blank=True)
    document_size = models.PositiveBigIntegerField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("renewal_date", "id")
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="sales_contract_term_order",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="sales_contract_value_gte_0"),
        ]
        indexes = [
            models.Index(fields=["customer", "start_date"], name="sales_contract_customer_idx"),
            models.Index(fields=["status", "renewal_date"], name="sales_contract_renewal_idx"),
            models.Index(fields=["owner", "status"], name="sales_contract_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.title
