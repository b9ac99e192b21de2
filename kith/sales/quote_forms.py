"""The quote forms (validation of substance is the services': their errors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.sales import currencies
from kith.sales.choices import QuoteStatus
from kith.sales.models import CloseReason, PriceList


def _version_field() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)


def _decimal_input(label: Any, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        **kwargs,
    )


class QuoteFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *QuoteStatus.choices]
    )
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=40)
    opportunity = forms.IntegerField(label=_("Opportunity"), required=False, min_value=1, max_value=2**31 - 1)
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=())

    def __init__(self, *args: Any, owners: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("anyone")), *((str(pk), name) for pk, name in owners)]
        self.fields["opportunity"].widget = forms.HiddenInput()


def _price_lists() -> Any:
    return PriceList.objects.filter(is_active=True).order_by("name", "pk")


class QuoteForm(forms.Form):
    """The header: customer (when there is no opportunity), currency, price list, validity, terms."""

    customer = forms.CharField(
        label=_("Customer number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    opportunity = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", "—"), *currencies.choices()], required=False
    )
    price_list = forms.ModelChoiceField(
        label=_("Price list"),
        queryset=PriceList.objects.none(),
        required=False,
        empty_label=_("the customer's best price"),
        help_text=_(
            "Without one, each product takes the customer's best price-list price or its list price."
        ),
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    terms = forms.CharField(
        label=_("Terms and notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=10000
    )
    version = _version_field()

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["price_list"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _price_lists()
        if editing:
            del self.fields["customer"]
            del self.fields["opportunity"]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data.pop("customer", None)
        data.pop("opportunity", None)
        return data


class QuoteLineForm(forms.Form):
    """A line: a product found by SKU or name (or a free-text description), quantity, price, discount."""

    product = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        help_text=_("Leave empty to use the product's name."),
    )
    quantity = _decimal_input(_("Quantity"), initial="1")
    unit = forms.CharField(label=_("Unit"), max_length=30, required=False)
    unit_price = _decimal_input(_("Unit price"), help_text=_("Empty: the customer's price for the product."))
    discount_percent = _decimal_input(_("Discount (%)"))
    tax_rate = _decimal_input(_("Tax rate (%)"), help_text=_("Empty: the product's."))
    version = _version_field()

    def service_data(self, *, editing: bool = False) -> dict[str, Any]:
        """The values typed: an empty field means "as the product says" (left out)."""
        data: dict[str, Any] = {}
        for name in (
            "product",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "discount_percent",
            "tax_rate",
        ):
            value = self.cleaned_data.get(name)
            cleared = editing and name in self.data and name in ("description", "discount_percent")
            if value not in (None, "") or cleared:
                data[name] = value
        return data


class QuoteSendForm(forms.Form):
    to = forms.CharField(
        label=_("Send to"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("Empty: the customer's primary email address."),
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Empty: a short standard message. The quote is attached as a PDF."),
    )
    version = _version_field()


class QuoteDecisionForm(forms.Form):
    close_reason = forms.ModelChoiceField(
        label=_("Why the deal was won"), queryset=CloseReason.objects.none(), required=False, empty_label="—"
    )
    version = _version_field()

    def __init__(self, *args: Any, reasons: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["close_reason"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = reasons if reasons is not None else CloseReason.objects.none()
