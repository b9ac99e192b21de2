"""Web forms of privacy tooling. They check the shape of the input; the services enforce the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.parties.choices import CustomerStatus
from kith.parties.forms import DATETIME_FORMATS
from kith.privacy.choices import ConsentChannel, ConsentStatus, RetentionAction
from kith.privacy.models import ConsentPurpose


class ConsentForm(forms.Form):
    purpose = forms.ModelChoiceField(
        label=_("Purpose"), queryset=ConsentPurpose.objects.none(), empty_label=_("Choose …")
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("Choose …")), *ConsentChannel.choices])
    status = forms.ChoiceField(
        label=_("Consent"),
        choices=ConsentStatus.choices,
        initial=ConsentStatus.GIVEN,
        widget=forms.RadioSelect,
    )
    occurred_at = forms.DateTimeField(
        label=_("When (empty: now)"),
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    evidence = forms.CharField(
        label=_("Source / evidence"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Where the statement comes from: web form, signed paper, recorded call …"),
    )

    def __init__(self, *args: Any, purposes: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = purposes if purposes is not None else ConsentPurpose.objects.none()  # type: ignore[attr-defined]


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example the data subject's request and its date or reference."),
    )
    confirmation = forms.CharField(label=_("Type the customer number to confirm"), max_length=60)


class LeadErasureForm(ErasureForm):
    confirmation = forms.CharField(label=_("Type the lead's id to confirm"), max_length=20)


class SubjectSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Email address or phone number"),
        max_length=254,
        help_text=_("How the person who asks is known: customers and leads with it are listed."),
    )


class BulkErasureForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    confirmation = forms.CharField(label=_("Type the number of customers selected to confirm"), max_length=10)


class PurposeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=40, help_text=_("What other modules ask for, e.g. marketing_email.")
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class RetentionRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    status = forms.ChoiceField(label=_("Customers with status"), choices=CustomerStatus.choices)
    inactive_months = forms.IntegerField(label=_("and no activity for (months)"), min_value=1, max_value=600)
    action = forms.ChoiceField(label=_("Then"), choices=RetentionAction.choices, initial=RetentionAction.FLAG)
    grace_days = forms.IntegerField(
        label=_("Days between flag and automatic anonymisation"),
        min_value=7,
        max_value=3650,
        initial=30,
        help_text=_("Only for rules that anonymise automatically: time for a review."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
