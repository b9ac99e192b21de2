"""Technical base models and the timeline index that every domain publishes into."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kith.core.crypto import EncryptedTextField


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(models.Model):
    """Optimistic locking: every save through a service increments ``version``; a stale version is a conflict."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True


class TimelineEntry(models.Model):
    """One line on a subject's timeline, written by the domain service that created the business record.

    The table is an index: it holds what the timeline shows (kind, time, title, summary) and points at the
    business record (``source``) without knowing what it is. Any app publishes through ``kith.core.timeline``.
    """

    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    subject_id = models.BigIntegerField()
    kind = models.CharField(_("kind"), max_length=64)
    occurred_at = models.DateTimeField(_("when"))
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "-occurred_at", "-id"], name="timeline_subject_idx"
            ),
            models.Index(
                fields=["subject_type", "subject_id", "kind", "-occurred_at", "-id"], name="timeline_kind_idx"
            ),
            models.Index(fields=["source_type", "source_id"], name="timeline_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d} {self.title}"


class SiteSetting(models.Model):
    """An admin-editable setting stored as JSON (read through ``kith.core.settings_store``)."""

    key = models.CharField(max_length=100, unique=True)
    value = models.JSONField(default=None, null=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key


class SearchWord(models.Model):
    """A word that occurs in a searched text column: the vocabulary typo-tolerant search corrects against."""

    scope = models.CharField(max_length=40)
    word = models.CharField(max_length=60)
    first = models.CharField(max_length=1)
    length = models.PositiveSmallIntegerField()
    uses = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "word"], name="searchword_unique")]
        indexes = [models.Index(fields=["scope", "first", "length"], name="searchword_bucket_idx")]

    def __str__(self) -> str:
        return self.word


class IdempotencyKey(models.Model):
    """An API POST sent with an ``Idempotency-Key`` header and the response it got, replayed when the same
    client repeats it within a day (``kith.core.idempotency``). The response may hold personal data: it
    is encrypted at rest and the row is deleted once expired."""

    owner = models.CharField(max_length=64)  # "user:<id>" or "token:<id>" (an API token)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=1000)
    body_hash = models.CharField(max_length=64)  # SHA-256 (hex) of the parsed request body
    completed = models.BooleanField(default=False)  # False: the first request is still being processed
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content = EncryptedTextField(blank=True, default="")
    content_type = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=dict, blank=True)  # the response headers replayed (Location)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key", "method", "path"], name="idempotencykey_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created_idx")]

    def __str__(self) -> str:
        return f"{self.owner} {self.method} {self.path} {self.key}"
