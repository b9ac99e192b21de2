"""Shapes of the quote API. Inputs are loose (strings are fine): the services check every field and answer
with all the errors at once."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.sales.choices import QuoteStatus


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True, **kwargs)


def _percent() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=True)


class QuoteLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id", allow_null=True)
    sku = serializers.SerializerMethodField()
    description = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=True)
    unit = serializers.CharField()
    unit_price = _money()
    currency = serializers.CharField()
    discount_percent = _percent()
    tax_rate = _percent()
    net = _money(help_text=_("Quantity × unit price less the discount, rounded half up to the currency."))
    tax = _money(help_text=_("Net × tax rate, rounded half up to the currency."))
    total = _money()

    def get_sku(self, line: Any) -> str | None:
        return line.product.sku if line.product_id else None


class QuoteCustomerSerializer(serializers.Serializer):
    customer_number = serializers.CharField()
    display_name = serializers.CharField()


class QuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    revision = serializers.IntegerField()
    # a plain string in the schema (an enum named "status" would collide with the other apps' ones)
    status = serializers.CharField(help_text="One of: " + ", ".join(QuoteStatus.values) + ".")
    customer = QuoteCustomerSerializer()
    opportunity = serializers.IntegerField(source="opportunity_id", allow_null=True)
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    currency = serializers.CharField()
    price_list = serializers.IntegerField(source="price_list_id", allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    subtotal = _money(help_text=_("Σ quantity × unit price (each line rounded)."))
    discount_total = _money()
    tax_total = _money()
    total = _money(help_text=_("Σ net + Σ tax."))
    terms = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    sent_to = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField(
        help_text=_("Send it back as expected_version to detect concurrent edits.")
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class QuoteDetailSerializer(QuoteSerializer):
    lines = QuoteLineSerializer(many=True)


class QuotePageSerializer(serializers.Serializer):
    results = QuoteSerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


class QuoteLineInputSerializer(StrictSerializer):
    product = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    description = serializers.CharField(max_length=600, allow_blank=True, required=False)
    quantity = serializers.CharField(max_length=40, allow_blank=True, required=False)
    unit = serializers.CharField(max_length=60, allow_blank=True, required=False)
    unit_price = serializers.CharField(
        max_length=40,
        allow_blank=True,
        required=False,
        help_text=_("Empty: the customer's price for the product."),
    )
    currency = serializers.CharField(
        max_length=10, allow_blank=True, required=False, help_text=_("When given, must be the quote's.")
    )
    discount_percent = serializers.CharField(max_length=20, allow_blank=True, required=False)
    tax_rate = serializers.CharField(
        max_length=20, allow_blank=True, required=False, help_text=_("Empty: the product's.")
    )


class QuoteLineAddSerializer(QuoteLineInputSerializer):
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class QuoteInputSerializer(StrictSerializer):
    customer = serializers.CharField(
        max_length=40, allow_blank=True, required=False, help_text=_("Customer number (or give opportunity).")
    )
    opportunity = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    currency = serializers.CharField(max_length=10, allow_blank=True, required=False)
    price_list = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    valid_until = serializers.CharField(
        max_length=20, allow_blank=True, required=False, help_text="YYYY-MM-DD"
    )
    terms = serializers.CharField(allow_blank=True, required=False, max_length=20000)
    lines = QuoteLineInputSerializer(many=True, required=False)


class QuoteUpdateSerializer(StrictSerializer):
    currency = serializers.CharField(max_length=10, allow_blank=True, required=False)
    price_list = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    valid_until = serializers.CharField(max_length=20, allow_blank=True, required=False)
    terms = serializers.CharField(allow_blank=True, required=False, max_length=20000)
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The version you loaded; another save since then is a 409."),
    )


class QuoteVersionSerializer(StrictSerializer):
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class QuoteSendSerializer(QuoteVersionSerializer):
    to = serializers.CharField(
        max_length=254,
        allow_blank=True,
        required=False,
        help_text=_("Default: the customer's primary email."),
    )
    message = serializers.CharField(max_length=5000, allow_blank=True, required=False)


class QuoteAcceptSerializer(QuoteVersionSerializer):
    close_reason = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Why the opportunity was won (a won close reason), when the quote has an open one."),
    )


class QuoteAcceptedSerializer(QuoteDetailSerializer):
    deal_not_won = serializers.CharField(
        help_text=_("Empty, or why the quote's opportunity could not be marked won.")
    )
    deal_amount_not_updated = serializers.CharField(
        help_text=_("Empty, or why the opportunity's amount could not follow the quote's total.")
    )
    superseded = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The numbers of the opportunity's other open quotes, superseded by this acceptance."),
    )
