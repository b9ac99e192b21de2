"""The contract forms (the services check substance; their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.sales import currencies
from kith.sales.models import ContractStatus
from kith.sales.order_forms import date_input, decimal_input, version_field


class ContractFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *ContractStatus.choices]
    )
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=40)
    renewing = forms.IntegerField(
        label=_("Renewing within (days)"), required=False, min_value=0, max_value=3650
    )
    q = forms.CharField(label=_("Title"), required=False, max_length=100)


class ContractForm(forms.Form):
    customer = forms.CharField(label=_("Customer number"), max_length=40, required=False)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=ContractStatus.choices, initial=ContractStatus.ACTIVE
    )
    start_date = date_input(_("Start"))
    end_date = date_input(_("End"))
    value = decimal_input(_("Value"))
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    renewal_date = date_input(_("Renewal date"))
    auto_renew = forms.BooleanField(label=_("Renews automatically"), required=False)
    notice_days = forms.IntegerField(
        label=_("Notice period (days)"), required=False, min_value=0, max_value=3650
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    document = forms.FileField(
        label=_("Document"),
        required=False,
        help_text=_("PDF, Word (.docx), OpenDocument (.odt), PNG, JPEG or text."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.odt,.png,.jpg,.jpeg,.txt"}),
    )
    remove_document = forms.BooleanField(label=_("Remove the document"), required=False)
    version = version_field()

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["currency"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = currencies.choices()
        if editing:
            del self.fields["customer"]
        else:
            del self.fields["remove_document"]

    def service_data(self) -> dict[str, Any]:
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in ("version", "document", "remove_document", "customer")
        }
        if data.get("notice_days") is None:
            data["notice_days"] = 0
        return data
