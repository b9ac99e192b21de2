"""Business records of the parties domain: relationships, interactions and special dates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel
from kith.parties.choices import Channel, InteractionKind, Outcome, SpecialDateKind
from kith.parties.models.catalogues import RelationshipType
from kith.parties.models.customers import Customer


class Relationship(TimestampedModel):
    type = models.ForeignKey(RelationshipType, on_delete=models.PROTECT, related_name="relationships")
    from_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relationships_out")
    to_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relationships_in")
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["type", "from_customer", "to_customer"], name="relationship_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_customer=F("to_customer")), name="relationship_not_self"
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="relationship_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_customer_id} {self.type.name} {self.to_customer_id}"


class Interaction(TimestampedModel, VersionedModel):
    """Something that happened with a customer: a visit, call, complaint, suggestion ..."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="interactions")
    kind = models.CharField(_("type"), max_length=20, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    follow_up_date = models.DateField(_("follow up on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_idx"),
            models.Index(fields=["follow_up_date"], name="interaction_followup_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class SpecialDate(models.Model):
    """A date that comes back every year. ``month_day`` (MMDD as a number) is indexed for "who on date D".

    The year may be unknown (a vCard ``--0203`` birthday); birthdays and founding days are kept in step
    with the customer's master data by the services.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="special_dates")
    kind = models.CharField(_("kind"), max_length=20, choices=SpecialDateKind.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    month = models.PositiveSmallIntegerField(_("month"))
    day = models.PositiveSmallIntegerField(_("day"))
    month_day = models.PositiveSmallIntegerField(editable=False)

    class Meta:
        ordering = ["month", "day"]
        indexes = [models.Index(fields=["month_day", "customer"], name="specialdate_md_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="specialdate_month_range"),
            models.CheckConstraint(condition=Q(day__gte=1, day__lte=31), name="specialdate_day_range"),
        ]

    def __str__(self) -> str:
        year = f"{self.year:04d}-" if self.year else "--"
        return f"{self.get_kind_display()} {year}{self.month:02d}-{self.day:02d}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.month_day = self.month * 100 + self.day
        super().save(*args, **kwargs)
