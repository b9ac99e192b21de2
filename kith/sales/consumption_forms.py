"""Forms of the consumption pages: which customers and dates the statistics show, and a line entered by
hand (the rules are the selector's and the service's; their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.parties.selectors.catalogues import account_managers, categories, roles, tags
from kith.sales import currencies
from kith.sales.models import ConsumptionKind


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ConsumptionStatsForm(forms.Form):
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=40)
    category = forms.ChoiceField(label=_("Category (and below)"), required=False, choices=())
    tag = forms.ChoiceField(label=_("Tag"), required=False, choices=())
    role = forms.ChoiceField(label=_("Role"), required=False, choices=())
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=())
    subordinates = forms.ChoiceField(
        label=_("Owner's team"),
        required=False,
        choices=[("1", _("with their reports")), ("0", _("only their own customers"))],
    )
    period = forms.ChoiceField(
        label=_("Totals per"),
        required=False,
        choices=[("day", _("day")), ("week", _("week")), ("month", _("month")), ("quarter", _("quarter"))],
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label=_("From"), required=False, widget=_date_input())
        self.fields["to"] = forms.DateField(label=_("To"), required=False, widget=_date_input())
        anyone = [("", _("any"))]
        self._choices("category", anyone + [(str(c.pk), f"{c.tree.name}: {c.path}") for c in categories()])
        self._choices("tag", anyone + [(t.name, t.name) for t in tags()])
        self._choices("role", anyone + [(str(r.pk), r.name) for r in roles()])
        self._choices("owner", anyone + [(str(u.pk), str(u)) for u in account_managers(user)])

    def _choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class ConsumptionLineForm(forms.Form):
    customer = forms.CharField(label=_("Customer number"), max_length=40, required=False)
    occurred_on = forms.CharField(
        label=_("Date"), required=False, widget=forms.TextInput(attrs={"type": "date"})
    )
    sku = forms.CharField(label=_("Product code"), max_length=64, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = forms.CharField(
        label=_("Quantity"),
        max_length=40,
        required=False,
        help_text=_("Negative for a return or a cancellation."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    unit_price = forms.CharField(
        label=_("Unit price"),
        max_length=40,
        required=False,
        help_text=_("Up to four decimals; the amount is rounded to the currency."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=[("", _("the product's")), *currencies.choices()]
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("from the quantity (purchase or return)")), *ConsumptionKind.choices],
    )
    reference = forms.CharField(label=_("Invoice number"), max_length=64, required=False)
    period_start = forms.CharField(
        label=_("Usage from"), required=False, widget=forms.TextInput(attrs={"type": "date"})
    )
    period_end = forms.CharField(
        label=_("Usage to"), required=False, widget=forms.TextInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("customer", "occurred_on", "quantity", "unit_price"):
            self.fields[name].show_required = True  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
