"""The order forms (validation of substance is the services': their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.sales import currencies
from kith.sales.models import OrderStatus


def version_field() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)


def decimal_input(label: Any, *, required: bool = False, **kwargs: Any) -> forms.CharField:
    """Amounts and quantities as text: the service checks them exactly (no float on the way)."""
    return forms.CharField(
        label=label,
        max_length=40,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        **kwargs,
    )


def date_input(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *OrderStatus.choices]
    )
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=40)
    q = forms.CharField(label=_("Order number"), required=False, max_length=30)


class OrderForm(forms.Form):
    """The header of a draft: customer (when new), currency, requested delivery date, notes."""

    customer = forms.CharField(
        label=_("Customer number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    requested_delivery_date = date_input(_("Requested delivery date"))
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = version_field()

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["currency"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = currencies.choices()
        if editing:
            del self.fields["customer"]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data.pop("customer", None)
        return data


class OrderLineForm(forms.Form):
    product = forms.IntegerField(label=_("Product id"), required=False, min_value=1, max_value=2**62)
    description = forms.CharField(label=_("Description"), required=False, max_length=300)
    model = forms.CharField(label=_("Model"), required=False, max_length=100)
    quantity = decimal_input(_("Quantity"), required=True)
    unit_price = decimal_input(_("Unit price"), help_text=_("Empty: the product's list price."))
    discount_percent = decimal_input(_("Discount (%)"))
    tax_rate = decimal_input(_("Tax rate (%)"), help_text=_("Empty: the product's tax rate."))
    requested_delivery_date = date_input(_("Requested delivery date"))
    version = version_field()

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        return data


class ShipForm(forms.Form):
    """One quantity field per line with something left to ship, plus the shipment's details."""

    shipped_on = date_input(_("Shipped on"))
    carrier = forms.CharField(label=_("Carrier"), required=False, max_length=100)
    tracking = forms.CharField(label=_("Tracking number"), required=False, max_length=100)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    version = version_field()

    def __init__(self, *args: Any, lines: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.open_quantity > 0]
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = decimal_input(
                _("%(line)s — %(left)s left")
                % {"line": line.description, "left": line.open_quantity.normalize()}
            )

    def line_fields(self) -> list[Any]:
        return [self[f"line_{line.pk}"] for line in self.lines]

    def shipped(self) -> list[tuple[Any, str]]:
        """(line, quantity) for each line given a quantity (left empty or 0: not in this shipment)."""
        out = []
        for line in self.lines:
            raw = (self.cleaned_data.get(f"line_{line.pk}") or "").strip()
            if raw and raw not in ("0", "0.0", "0.00", "0.000"):
                out.append((line, raw))
        return out
