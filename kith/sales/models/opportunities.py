"""Opportunities on admin-defined pipelines of stages, their stage history (for the funnel and time in
stage), the reasons deals are won or lost, and the approvals a large deal or discount needs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kith.core.models import TimestampedModel, VersionedModel
from kith.sales.choices import ApprovalStatus, OpportunityStatus, StageKind


class Pipeline(TimestampedModel, VersionedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("-is_default", "name", "id")
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name


class Stage(TimestampedModel):
    """A column of a pipeline. ``kind`` says whether a deal in it is open, won or lost;
    ``requires_approval``: a deal that needs an approval (a discount above the threshold, an amount above
    the limit) may enter this stage (e.g. "Quote sent") only once the approval is granted."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(pgettext_lazy("position in a list", "order"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=10)
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    requires_approval = models.BooleanField(_("needs a granted approval"), default=False)

    class Meta:
        ordering = ("pipeline", "position", "id")
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="sales_stage_name_unique"),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=100), name="sales_stage_probability"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CloseReason(TimestampedModel):
    """Why deals are won or lost (admin-defined lists)."""

    kind = models.CharField(_("for"), max_length=4, choices=StageKind.choices)
    name = models.CharField(_("reason"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("kind", "name", "id")
        verbose_name = _("close reason")
        verbose_name_plural = _("close reasons")
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="sales_closereason_unique")]

    def __str__(self) -> str:
        return self.name


class Opportunity(TimestampedModel, VersionedModel):
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        "parties.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_opportunities",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    # open, won or lost: the kind of the stage, kept here for the indexes
    status = models.CharField(
        _("status"), max_length=4, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    # the discount off list prices asked for (percent); above the threshold it needs an approval
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=10)
    expected_close_date = models.DateField(_("expected close"), null=True, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    competitors = models.CharField(_("competitors"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    close_reason = models.ForeignKey(
        CloseReason,
        verbose_name=_("reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    close_note = models.CharField(_("closing note"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"), null=True, blank=True)
    lead = models.ForeignKey(
        "sales.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="sales_opportunity_amount_gte_0"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="sales_opportunity_discount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=100),
                name="sales_opportunity_probability",
            ),
        ]
        indexes = [
            # the board: open deals of a pipeline by stage
            models.Index(fields=["pipeline", "status", "stage", "-amount", "id"], name="sales_opp_board_idx"),
            models.Index(fields=["owner", "status", "pipeline"], name="sales_opp_owner_idx"),
            models.Index(fields=["customer", "-created_at"], name="sales_opp_customer_idx"),
            models.Index(fields=["status", "expected_close_date"], name="sales_opp_close_idx"),
            # won and lost in a period (forecast, leaderboard)
            models.Index(fields=["status", "closed_at"], name="sales_opp_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move of an opportunity between stages (creation included, ``from_stage`` empty)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # seconds the opportunity spent in ``from_stage`` (for time in stage)
    seconds_in_previous = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("changed_at", "id")
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="sales_stagechange_opp_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="sales_stagechange_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} -> {self.to_stage_id}"


class Approval(TimestampedModel):
    """A request that the owner's manager (or someone holding opportunity.approve) allow a deal whose
    discount or amount is above the limits. It approves the deal as it stood (amount, discount); a later
    change above what was approved needs a new one."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="approvals")
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    reasons = models.CharField(_("why it is needed"), max_length=300)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_comment = models.CharField(_("comment"), max_length=500, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_approvals_to_decide",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.CharField(_("decision comment"), max_length=500, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        indexes = [
            models.Index(fields=["approver", "status"], name="sales_approval_todo_idx"),
            models.Index(fields=["opportunity", "-created_at"], name="sales_approval_opp_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=models.Q(status="pending"),
                name="sales_approval_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.get_status_display()}"
