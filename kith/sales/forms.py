"""The sales forms (validation of substance is the services': their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.parties.selectors.catalogues import categories
from kith.sales import currencies
from kith.sales.models import Product


def _currency_field(label: Any = None) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label or _("Currency"), choices=[("", "—"), *currencies.choices()], required=False
    )


def _not_required(form: forms.Form, *names: str) -> None:
    """The service checks these fields, so every error shows at once."""
    for name in names:
        form.fields[name].required = False
        form.fields[name].show_required = True  # type: ignore[attr-defined]


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("SKU or name"), required=False, max_length=100)
    active = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("all")), ("1", _("active")), ("0", _("inactive"))],
    )
    category = forms.ChoiceField(label=_("Category"), required=False, choices=())

    def __init__(self, *args: Any, category_choices: list[str] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("all")), *((c, c) for c in category_choices)]


class ProductForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    model = forms.CharField(label=_("Model"), max_length=100, required=False)
    unit = forms.CharField(
        label=_("Unit"), max_length=30, required=False, help_text=_("e.g. pcs, hour, GB, month")
    )
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    list_price = forms.CharField(
        label=_("List price"), max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    currency = _currency_field()
    tax_rate = forms.CharField(
        label=_("Tax rate (%)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Percent, 0 to 100."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _not_required(self, "sku", "name", "list_price", "currency")

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.tree.name}: {obj.path}"


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = _currency_field()
    customer_group = CategoryChoiceField(
        label=_("Customer group"),
        queryset=categories(),
        required=False,
        empty_label=_("every customer"),
        help_text=_("A customer in this category, or in one below it, gets this list."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _not_required(self, "name", "currency")

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class PriceListItemForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False)
    unit_price = forms.CharField(
        label=_("Unit price"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    min_quantity = forms.CharField(
        label=_("From quantity"),
        max_length=40,
        required=False,
        initial="1",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args: Any, products: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = products
        field.show_required = True  # type: ignore[attr-defined]
        self.fields["unit_price"].show_required = True  # type: ignore[attr-defined]


class ExchangeRateForm(forms.Form):
    from_currency = _currency_field(_("From"))
    to_currency = _currency_field(_("To"))
    rate = forms.CharField(
        label=_("Rate"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("1 unit of the first currency is worth this much of the second."),
    )
    date = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _not_required(self, "from_currency", "to_currency", "rate", "date")
