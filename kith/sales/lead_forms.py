"""Forms of the lead pages (the services check the substance; their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kith.parties.selectors.catalogues import categories
from kith.sales import currencies
from kith.sales.choices import AssignmentMethod, LeadSource, LeadStatus
from kith.sales.forms import CategoryChoiceField
from kith.sales.services.web_forms import HONEYPOT, START_FIELD

_VERSION = {"widget": forms.HiddenInput, "required": False, "min_value": 1, "max_value": 2**31 - 1}


def _active_users() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(getattr(obj, "display_name", "") or obj.get_username())


class UsersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(getattr(obj, "display_name", "") or obj.get_username())


class VersionedForm(forms.Form):
    version = forms.IntegerField(**_VERSION)  # type: ignore[arg-type]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class LeadFilterForm(forms.Form):
    q = forms.CharField(label=_("Name, company, email or phone"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *LeadStatus.choices]
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=())
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("all")), *LeadSource.choices]
    )
    territory = forms.CharField(label=_("Territory"), required=False, max_length=50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", _("anyone")),
            ("mine", _("mine")),
            ("unassigned", _("unassigned")),
            *((str(u.pk), str(getattr(u, "display_name", "") or u.get_username())) for u in _active_users()),
        ]


class LeadForm(VersionedForm):
    given_name = forms.CharField(label=_("Given name"), max_length=100, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False, widget=forms.EmailInput)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    territory = forms.CharField(
        label=_("Territory"),
        max_length=50,
        required=False,
        help_text=_("A region, country or province code."),
    )
    category = CategoryChoiceField(label=_("Category"), queryset=categories(), required=False)
    source = forms.ChoiceField(label=_("Source"), choices=LeadSource.choices, initial=LeadSource.MANUAL)
    estimated_value = forms.CharField(
        label=_("Estimated value"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", "—"), *currencies.choices()], required=False
    )
    owner = UserChoiceField(
        label=_("Owner"),
        queryset=_active_users(),
        required=False,
        empty_label=_("the assignment rules decide"),
    )
    description = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, converted: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if converted:  # a converted lead keeps only its notes editable
            for name, field in self.fields.items():
                if name not in ("description", "version"):
                    field.disabled = True


class AssignForm(VersionedForm):
    owner = UserChoiceField(label=_("Give to"), queryset=_active_users(), required=False)


class DisqualifyForm(VersionedForm):
    reason = forms.CharField(label=_("Why not qualified"), max_length=300, required=False)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("What"), max_length=200, required=False)
    due_date = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    assignee = UserChoiceField(label=_("Who"), queryset=_active_users(), required=False, empty_label=_("me"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("title", "due_date"):
            self.fields[name].show_required = True  # type: ignore[attr-defined]


class ConvertForm(forms.Form):
    customer = forms.CharField(required=False, widget=forms.HiddenInput)  # "" new, else a customer id
    create_opportunity = forms.BooleanField(
        label=_("Also create an opportunity"), required=False, initial=True
    )
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    amount = forms.CharField(
        label=_("Amount"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", "—"), *currencies.choices()], required=False
    )
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class RuleForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    position = forms.IntegerField(
        label=pgettext_lazy("position in a list", "Order"),
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        initial=0,
        help_text=_("Rules are tried from the lowest number; the first that matches gives the lead."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    territory = forms.CharField(
        label=_("Territory"),
        max_length=50,
        required=False,
        help_text=_("Empty: any territory. Case is ignored."),
    )
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=categories(),
        required=False,
        empty_label=_("any category"),
        help_text=_("A lead in this category or one below it."),
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", _("any source")), *LeadSource.choices], required=False
    )
    method = forms.ChoiceField(
        label=_("Method"), choices=AssignmentMethod.choices, initial=AssignmentMethod.ROUND_ROBIN
    )
    users = UsersChoiceField(
        label=_("Users"), queryset=_active_users(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "users"):
            self.fields[name].show_required = True  # type: ignore[attr-defined]


class WebFormForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    title = forms.CharField(label=_("Heading"), max_length=200, required=False)
    thank_you = forms.CharField(label=_("Thank-you message"), max_length=300, required=False)
    redirect_url = forms.CharField(
        label=_("Redirect after submit"),
        max_length=200,
        required=False,
        help_text=_("Optional: a page of your site to show instead of the thank-you message."),
    )
    allowed_origins = forms.CharField(
        label=_("Allowed sites"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line, e.g. https://www.example.com. Only these sites may show the form in a frame; empty: any site."
        ),
    )
    category = CategoryChoiceField(label=_("Category of its leads"), queryset=categories(), required=False)
    owner = UserChoiceField(
        label=_("Owner of its leads"),
        queryset=_active_users(),
        required=False,
        empty_label=_("the assignment rules decide"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].show_required = True  # type: ignore[attr-defined]


class PublicLeadForm(forms.Form):
    """The public web-to-lead form; the honeypot and the start token travel with it."""

    given_name = forms.CharField(label=_("Given name"), max_length=100, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False, widget=forms.EmailInput)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    description = forms.CharField(
        label=_("Message"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


HONEYPOT_NAME = HONEYPOT
START_NAME = START_FIELD
