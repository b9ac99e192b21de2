"""The invoice and payment forms (the services check substance; their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.sales import currencies
from kith.sales.models import InvoiceStatus, PaymentMethod
from kith.sales.order_forms import date_input, decimal_input


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *InvoiceStatus.choices]
    )
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=40)
    q = forms.CharField(label=_("Invoice number"), required=False, max_length=30)


class InvoiceForm(forms.Form):
    customer = forms.CharField(label=_("Customer number"), max_length=40, required=False)
    total = decimal_input(_("Amount"), required=True)
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    issued_on = date_input(_("Issue date"))
    due_on = date_input(_("Due date"))
    description = forms.CharField(label=_("Description"), required=False, max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["currency"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = currencies.choices()


class PaymentForm(forms.Form):
    amount = decimal_input(_("Amount"), required=True)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    paid_on = date_input(_("Paid on"))
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)
    allow_overpayment = forms.BooleanField(
        label=_("Allow overpayment"),
        required=False,
        help_text=_("The excess stays as a credit of the customer."),
    )
