"""Leads (people or companies not yet customers), the rules that assign them, the embeddable web-to-lead
forms that capture them, and follow-up tasks (of a lead or an opportunity)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kith.core.models import TimestampedModel, VersionedModel
from kith.sales.choices import AssignmentMethod, LeadSource, LeadStatus


class Lead(TimestampedModel, VersionedModel):
    """A possible customer: captured by hand, the API, an import or a web-to-lead form; qualified or not;
    converted once into a customer (an existing one when it is a duplicate) and an opportunity."""

    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    phone_raw = models.CharField(_("phone as given"), max_length=40, blank=True)
    # where the lead is (a region, country or province code) for territory assignment
    territory = models.CharField(_("territory"), max_length=50, blank=True)
    category = models.ForeignKey(
        "parties.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    source = models.CharField(
        _("source"), max_length=12, choices=LeadSource.choices, default=LeadSource.MANUAL
    )
    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    description = models.TextField(_("description"), blank=True)
    estimated_value = models.DecimalField(
        _("estimated value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    web_form = models.ForeignKey(
        "sales.WebForm", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    disqualified_reason = models.CharField(_("why not qualified"), max_length=300, blank=True)
    converted_customer = models.ForeignKey(
        "parties.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_opportunity = models.ForeignKey(
        "sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "status", "-id"], name="sales_lead_owner_idx"),
            models.Index(fields=["status", "-id"], name="sales_lead_status_idx"),
            models.Index(fields=["email"], name="sales_lead_email_idx"),
            models.Index(fields=["phone"], name="sales_lead_phone_idx"),
        ]

    def __str__(self) -> str:
        name = " ".join(p for p in (self.given_name, self.family_name) if p)
        if name and self.company:
            return f"{name} ({self.company})"
        return name or self.company or self.email or f"#{self.pk}"


class LeadAssignmentRule(TimestampedModel, VersionedModel):
    """Who gets a new lead that has no owner: the first active rule (by ``position``) whose conditions all
    match (empty conditions match everything) gives it to one of its users, in turn (round robin) or
    always the first."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(pgettext_lazy("position in a list", "order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    territory = models.CharField(
        _("territory"), max_length=50, blank=True, help_text=_("Matches a lead of this territory (any case).")
    )
    category = models.ForeignKey(
        "parties.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Matches a lead in this category or one below it."),
    )
    source = models.CharField(_("source"), max_length=12, choices=LeadSource.choices, blank=True)
    method = models.CharField(
        _("method"), max_length=12, choices=AssignmentMethod.choices, default=AssignmentMethod.ROUND_ROBIN
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("users"), related_name="+")
    # the round robin's turn: the id of the user who got the last lead (the next is the next id above)
    last_user_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("position", "id")
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")

    def __str__(self) -> str:
        return self.name


def _form_key() -> str:
    return secrets.token_urlsafe(18)


class WebForm(TimestampedModel, VersionedModel):
    """An embeddable web-to-lead form: a public URL (``/f/<key>/``) and an HTML snippet for a web site.
    Spam protection: a hidden honeypot field, a signed start time (too fast is a bot), a rate limit per
    address and, when set, the sites allowed to post."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(max_length=40, unique=True, default=_form_key, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    title = models.CharField(_("heading"), max_length=200, blank=True)
    thank_you = models.CharField(_("thank-you message"), max_length=300, blank=True)
    redirect_url = models.URLField(_("redirect after submit"), blank=True)
    allowed_origins = models.TextField(
        _("allowed sites"), blank=True, help_text=_("One origin per line, e.g. https://www.example.com.")
    )
    category = models.ForeignKey(
        "parties.Category",
        verbose_name=_("category of its leads"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner of its leads"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the assignment rules decide."),
    )
    submissions = models.PositiveIntegerField(_("leads received"), default=0, editable=False)
    rejected = models.PositiveIntegerField(_("submissions refused as spam"), default=0, editable=False)

    class Meta:
        ordering = ("name", "id")
        verbose_name = _("web-to-lead form")
        verbose_name_plural = _("web-to-lead forms")

    def __str__(self) -> str:
        return self.name


class FollowUpTask(TimestampedModel, VersionedModel):
    """Something to do about a lead or an opportunity by a date."""

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    opportunity = models.ForeignKey(
        "sales.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(_("what"), max_length=200)
    due_date = models.DateField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_tasks",
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("due_date", "id")
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lead__isnull=False, opportunity__isnull=True)
                | models.Q(lead__isnull=True, opportunity__isnull=False),
                name="sales_task_one_subject",
            )
        ]
        indexes = [models.Index(fields=["assignee", "done_at", "due_date"], name="sales_task_todo_idx")]

    def __str__(self) -> str:
        return self.title
