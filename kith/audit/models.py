"""The audit trail (hash-chained, append-only) and the access log (who viewed, searched, exported).

``AuditEntry.seq`` is the chain position and the primary key: it is handed out under the chain lock, so a
missing number always means a removed entry (database sequences skip numbers on rollback; this does not).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.audit.choices import AccessKind, Action, AlertKind, Source


class AppendOnlyError(PermissionDenied):
    """Entries of the audit trail are never changed or deleted through the application."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise AppendOnlyError(_("Audit entries cannot be changed or deleted."))


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        _refuse()

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse()

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        _refuse()

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        _refuse()

    _raw_delete = _refuse  # type: ignore[assignment]


class AppendOnlyManager(models.Manager.from_queryset(AppendOnlyQuerySet)):  # type: ignore[misc]
    pass


class AppendOnlyModel(models.Model):
    objects = AppendOnlyManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()


class AuditEntry(AppendOnlyModel):
    seq = models.BigIntegerField(_("number"), primary_key=True)
    timestamp = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # the entry keeps the id and the name; no cascade may touch it
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("who (name)"), max_length=150, blank=True)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    request_id = models.CharField(_("request"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["customer_id", "-seq"], name="audit_customer_idx"),
            models.Index(fields=["object_type", "object_id", "-seq"], name="audit_object_idx"),
            models.Index(fields=["actor_label", "-seq"], name="audit_actor_idx"),
            models.Index(fields=["timestamp"], name="audit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}"


class AccessLog(AppendOnlyModel):
    """One read: a customer page, a search (text and result count) or an export. Not chained: cheap."""

    id = models.BigAutoField(primary_key=True)
    timestamp = models.DateTimeField(_("when"), db_index=True)
    day = models.DateField(_("day"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=AccessKind.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    customer_ids = models.JSONField(_("customers"), default=list, blank=True)
    customer_count = models.PositiveIntegerField(_("number of customers"), default=0)
    query = models.CharField(_("query"), max_length=300, blank=True)
    filters = models.CharField(_("filters"), max_length=300, blank=True)
    result_count = models.PositiveIntegerField(_("results"), null=True, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        # PostgreSQL also has a GIN index on customer_ids (migration 0003): "who looked at this customer"
        indexes = [
            models.Index(fields=["day", "user"], name="accesslog_day_user_idx"),
            models.Index(fields=["user", "timestamp"], name="accesslog_user_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.username} {self.kind}"


class AccessDaily(models.Model):
    """The access log rolled up per user per day by the daily job (derived: rebuilt from AccessLog)."""

    day = models.DateField(_("day"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    views = models.PositiveIntegerField(_("customer pages"), default=0)
    customers = models.PositiveIntegerField(_("customers viewed"), default=0)
    searches = models.PositiveIntegerField(_("searches"), default=0)
    search_results = models.PositiveIntegerField(_("customers listed"), default=0)
    exports = models.PositiveIntegerField(_("exports"), default=0)
    exported = models.PositiveIntegerField(_("exported rows"), default=0)

    class Meta:
        verbose_name = _("daily access figures")
        verbose_name_plural = _("daily access figures")
        constraints = [models.UniqueConstraint(fields=["day", "user"], name="accessdaily_day_user_uniq")]
        indexes = [models.Index(fields=["user", "day"], name="accessdaily_user_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.username}"


class Alert(models.Model):
    """A user crossed a daily threshold (customers viewed, listed or exported): raised once per user, day
    and kind; an administrator acknowledges it."""

    created_at = models.DateTimeField(_("raised"))
    day = models.DateField(_("day"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=AlertKind.choices)
    count = models.PositiveIntegerField(_("count"))
    threshold = models.PositiveIntegerField(_("threshold"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("access alert")
        verbose_name_plural = _("access alerts")
        constraints = [
            models.UniqueConstraint(fields=["user", "day", "kind"], name="alert_user_day_kind_uniq")
        ]
        indexes = [models.Index(fields=["acknowledged_at", "-created_at"], name="alert_open_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.username} {self.kind} {self.count}/{self.threshold}"
