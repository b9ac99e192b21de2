"""What an import did to each customer, so that the whole import can be undone while nothing changed since."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportChange(models.Model):
    # ADDED: relationships and yearly dates a row added to a customer that existed before it (``before``
    # holds their ids): undone one by one, while the customer itself may be left as it was
    CREATED, UPDATED, ADDED = "created", "updated", "added"

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="import_changes")
    row = models.PositiveIntegerField(_("row"))
    customer_id = models.BigIntegerField(_("customer"), db_index=True)
    action = models.CharField(
        _("action"),
        max_length=10,
        choices=[(CREATED, _("created")), (UPDATED, _("updated")), (ADDED, _("added to"))],
    )
    version_after = models.PositiveIntegerField(_("version after the import"))
    # the customer's values before an update (encrypted: it holds phones, birth dates ...); empty for creates
    before = models.TextField(_("values before"), blank=True)

    class Meta:
        indexes = [models.Index(fields=("job", "row"), name="importchange_job_idx")]
        verbose_name = _("change made by an import")
        verbose_name_plural = _("changes made by imports")

    def __str__(self) -> str:
        return f"{self.action} #{self.customer_id} (row {self.row})"
