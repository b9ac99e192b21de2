"""Forms of the opportunity pages (the services validate the substance; their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kith.sales import currencies
from kith.sales.choices import OpportunityStatus, StageKind
from kith.sales.models import CloseReason, Pipeline, Stage

ORDER_CHOICES = [
    ("-created_at", _("newest first")),
    ("created_at", _("oldest first")),
    ("-amount", _("largest amount")),
    ("amount", _("smallest amount")),
    ("expected_close_date", _("closing soonest")),
    ("-expected_close_date", _("closing latest")),
    ("name", _("name")),
    ("-updated_at", _("recently changed")),
]


def _not_required(form: forms.Form, *names: str) -> None:
    for name in names:
        form.fields[name].required = False
        form.fields[name].show_required = True  # type: ignore[attr-defined]


def _users() -> list[tuple[str, str]]:
    rows = get_user_model().objects.filter(is_active=True).order_by("display_name", "username")
    return [(str(u.pk), getattr(u, "display_name", "") or u.username) for u in rows]


def _decimal_input() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal"})


class OpportunityFilterForm(forms.Form):
    q = forms.CharField(label=_("Deal or customer"), required=False, max_length=100)
    pipeline = forms.ChoiceField(label=_("Pipeline"), required=False, choices=())
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=())
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *OpportunityStatus.choices]
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=())
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=40)
    close_from = forms.DateField(
        label=_("Closing from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    close_to = forms.DateField(
        label=_("Closing until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ordering = forms.ChoiceField(label=_("Sort by"), required=False, choices=ORDER_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pipeline_field = self.fields["pipeline"]
        stage_field = self.fields["stage"]
        owner_field = self.fields["owner"]
        assert isinstance(pipeline_field, forms.ChoiceField)
        assert isinstance(stage_field, forms.ChoiceField)
        assert isinstance(owner_field, forms.ChoiceField)
        pipeline_field.choices = [("", _("all")), *((str(p.pk), p.name) for p in Pipeline.objects.all())]
        stage_field.choices = [
            ("", _("all")),
            *(
                (str(s.pk), f"{s.pipeline.name} · {s.name}")
                for s in Stage.objects.select_related("pipeline").order_by("pipeline__name", "position")
            ),
        ]
        owner_field.choices = [("", _("anyone")), *_users()]


class OpportunityForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer number"), max_length=40, help_text=_("The number on the customer's page.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    pipeline = forms.ChoiceField(label=_("Pipeline"), required=False, choices=())
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=())
    amount = forms.CharField(label=_("Amount"), max_length=40, widget=_decimal_input())
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", "—"), *currencies.choices()], required=False
    )
    discount_percent = forms.CharField(
        label=_("Discount (%)"),
        max_length=20,
        required=False,
        widget=_decimal_input(),
        help_text=_("Off the list prices; above the limit it needs an approval."),
    )
    probability = forms.CharField(
        label=_("Probability (%)"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("Empty: the stage's default."),
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=())
    expected_close_date = forms.CharField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    competitors = forms.CharField(label=_("Competitors"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _not_required(self, "customer", "name", "amount", "currency")
        pipeline_field = self.fields["pipeline"]
        stage_field = self.fields["stage"]
        owner_field = self.fields["owner"]
        assert isinstance(pipeline_field, forms.ChoiceField)
        assert isinstance(stage_field, forms.ChoiceField)
        assert isinstance(owner_field, forms.ChoiceField)
        owner_field.choices = [("", _("me")), *_users()]
        if editing:
            for name in ("pipeline", "stage"):
                del self.fields[name]
            return
        pipeline_field.choices = [
            ("", _("the default pipeline")),
            *((str(p.pk), p.name) for p in Pipeline.objects.filter(is_active=True)),
        ]
        stage_field.choices = [
            ("", _("its first stage")),
            *(
                (str(s.pk), f"{s.pipeline.name} · {s.name}")
                for s in Stage.objects.select_related("pipeline")
                .filter(kind=StageKind.OPEN, pipeline__is_active=True)
                .order_by("pipeline__name", "position")
            ),
        ]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class MoveForm(forms.Form):
    """The "Move to" control of a card and the won/lost form of a deal's page."""

    stage = forms.IntegerField(label=_("Move to"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    close_reason = forms.ChoiceField(label=_("Reason"), required=False, choices=())
    close_note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["close_reason"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "—"),
            *(
                (str(r.pk), f"{r.get_kind_display()}: {r.name}")
                for r in CloseReason.objects.filter(is_active=True).order_by("kind", "name")
            ),
        ]


class ApprovalRequestForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment for the approver"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you reject."),
    )


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_default = forms.BooleanField(label=_("Default pipeline (new deals start here)"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _not_required(self, "name")


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices, initial=StageKind.OPEN)
    probability = forms.CharField(
        label=_("Probability (%)"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    requires_approval = forms.BooleanField(
        label=_("Needs a granted approval"),
        required=False,
        help_text=_(
            "A deal above the discount or amount limit enters this stage (or a later one) only once approved."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _not_required(self, "name")


class CloseReasonForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("For deals"), choices=[(StageKind.WON, _("won")), (StageKind.LOST, _("lost"))]
    )
    name = forms.CharField(label=_("Reason"), max_length=100)


class ApprovalLimitsForm(forms.Form):
    max_discount_percent = forms.CharField(
        label=_("Largest discount without approval (%)"), max_length=20, widget=_decimal_input()
    )
    max_amount = forms.CharField(
        label=_("Largest amount without approval"), max_length=40, widget=_decimal_input()
    )
    currency = forms.ChoiceField(label=_("Currency of that amount"), choices=currencies.choices())
