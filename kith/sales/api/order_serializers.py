"""Serializers of the order, shipment, contract, invoice and payment API (inputs are loose strings; the
services check every field exactly and answer with all the errors at once)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.sales.models import ContractStatus, InvoiceStatus, OrderStatus, PaymentMethod


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True, **kwargs)


def _quantity(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True, **kwargs)


def _text(**kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    return serializers.CharField(allow_blank=True, allow_null=True, max_length=10000, **kwargs)


def _version(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The version you loaded (409 when stale)."),
        **kwargs,
    )


# --- orders ----------------------------------------------------------------------------------------


class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id", allow_null=True)
    description = serializers.CharField()
    model = serializers.CharField(source="product_model")
    quantity = _quantity()
    unit = serializers.CharField()
    unit_price = _money()
    currency = serializers.CharField()
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=True)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=True)
    net = _money()
    tax = _money()
    total = _money()
    requested_delivery_date = serializers.DateField(allow_null=True)
    shipped_quantity = _quantity()
    cancelled_quantity = _quantity()


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    customer = serializers.CharField(source="customer.customer_number", help_text=_("Customer number."))
    customer_name = serializers.CharField(source="customer.display_name")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    quote = serializers.IntegerField(source="quote_id", allow_null=True)
    opportunity = serializers.IntegerField(source="opportunity_id", allow_null=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    currency = serializers.CharField()
    requested_delivery_date = serializers.DateField(allow_null=True)
    subtotal = _money()
    discount_total = _money()
    tax_total = _money()
    total = _money()
    notes = serializers.CharField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    lines = OrderLineSerializer(many=True, source="lines.all")
    version = serializers.IntegerField(help_text=_("Send it back as version to detect concurrent edits."))
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderPageSerializer(serializers.Serializer):
    results = OrderSerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


class OrderLineInputSerializer(StrictSerializer):
    product = _text(help_text=_("A product id (its name, model, unit, price and tax rate are the defaults)."))
    description = _text()
    model = _text()
    quantity = _text(help_text=_("Above zero, at most three decimals, as a string."))
    unit = _text()
    unit_price = _text(help_text=_("As a string, no more decimals than the currency allows."))
    currency = _text(help_text=_("Optional; must be the order's currency."))
    discount_percent = _text()
    tax_rate = _text()
    requested_delivery_date = _text()


class OrderInputSerializer(StrictSerializer):
    customer = serializers.CharField(max_length=40, help_text=_("Customer number."))
    currency = _text()
    requested_delivery_date = _text()
    notes = _text()
    owner = _text(help_text=_("A user id (default: you)."))
    opportunity = _text()
    lines = OrderLineInputSerializer(many=True, required=False)


class OrderUpdateSerializer(StrictSerializer):
    currency = _text()
    requested_delivery_date = _text()
    notes = _text()
    owner = _text()
    lines = OrderLineInputSerializer(
        many=True, required=False, help_text=_("When given: every line, replacing them.")
    )
    version = _version()


class OrderVersionSerializer(StrictSerializer):
    version = _version()


class FromQuoteSerializer(StrictSerializer):
    quote = serializers.IntegerField(min_value=1, max_value=2**62)
    confirm = serializers.BooleanField(required=False, default=False)


class ShipmentLineSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(source="order_line_id")
    quantity = _quantity()
    line_number = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    order = serializers.IntegerField(source="order_id")
    shipped_on = serializers.DateField()
    carrier = serializers.CharField()
    tracking = serializers.CharField()
    note = serializers.CharField()
    lines = ShipmentLineSerializer(many=True, source="lines.all")
    created_at = serializers.DateTimeField()


class ShipmentLineInputSerializer(StrictSerializer):
    order_line = serializers.IntegerField(min_value=1, max_value=2**62)
    quantity = serializers.CharField(max_length=40)


class ShipmentInputSerializer(StrictSerializer):
    lines = ShipmentLineInputSerializer(many=True)
    shipped_on = _text()
    carrier = _text()
    tracking = _text()
    note = _text()
    version = _version()


# --- contracts -------------------------------------------------------------------------------------


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.CharField(source="customer.customer_number")
    customer_name = serializers.CharField(source="customer.display_name")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    title = serializers.CharField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=ContractStatus.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    value = _money()
    currency = serializers.CharField()
    renewal_date = serializers.DateField(allow_null=True)
    auto_renew = serializers.BooleanField()
    notice_days = serializers.IntegerField()
    notes = serializers.CharField()
    document_name = serializers.CharField(help_text=_("Empty: no document attached."))
    document_type = serializers.CharField()
    document_size = serializers.IntegerField(allow_null=True)
    document_sha256 = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ContractPageSerializer(serializers.Serializer):
    results = ContractSerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


class ContractInputSerializer(StrictSerializer):
    customer = serializers.CharField(max_length=40, required=False)
    title = _text()
    reference = _text()
    status = _text()
    start_date = _text()
    end_date = _text()
    value = _text()
    currency = _text()
    renewal_date = _text()
    auto_renew = serializers.BooleanField(required=False)
    notice_days = _text()
    notes = _text()
    owner = _text()
    version = _version()


class DocumentUploadSerializer(serializers.Serializer):
    document = serializers.FileField(help_text=_("PDF, .docx, .odt, PNG, JPEG or text."))
    version = _version()


# --- invoices and payments -------------------------------------------------------------------------


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.CharField(source="customer.customer_number")
    invoice = serializers.IntegerField(source="invoice_id", allow_null=True)
    amount = _money()
    currency = serializers.CharField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    paid_on = serializers.DateField()
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()


class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    customer = serializers.CharField(source="customer.customer_number")
    customer_name = serializers.CharField(source="customer.display_name")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    order = serializers.IntegerField(source="order_id", allow_null=True)
    issued_on = serializers.DateField()
    due_on = serializers.DateField()
    total = _money()
    paid = _money()
    outstanding = _money()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    description = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class InvoicePageSerializer(serializers.Serializer):
    results = InvoiceSerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


class InvoiceInputSerializer(StrictSerializer):
    customer = serializers.CharField(max_length=40, required=False)
    order = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    total = _text(help_text=_("Empty with an order: what of the order is not yet invoiced."))
    currency = _text()
    issued_on = _text()
    due_on = _text()
    description = _text()


class PaymentInputSerializer(StrictSerializer):
    amount = serializers.CharField(max_length=40)
    currency = _text()
    method = serializers.CharField(max_length=20, help_text=", ".join(PaymentMethod.values))
    paid_on = _text()
    reference = _text()
    allow_overpayment = serializers.BooleanField(
        required=False, default=False, help_text=_("Accept more than the invoice still owes (a credit).")
    )


class AccountPaymentInputSerializer(PaymentInputSerializer):
    customer = serializers.CharField(max_length=40, help_text=_("Customer number (a payment on account)."))


class BalanceSerializer(serializers.Serializer):
    customer = serializers.CharField()
    balances = serializers.DictField(
        child=serializers.CharField(), help_text=_("Currency: what is owed (negative: a credit).")
    )
