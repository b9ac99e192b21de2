from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.sales.choices import PriceSource


def _money(**kwargs: object) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)  # type: ignore[arg-type]


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    model = serializers.CharField()
    unit = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    list_price = _money()
    currency = serializers.CharField(help_text=_("ISO 4217 code."))
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, help_text=_("Percent."))
    is_active = serializers.BooleanField()
    version = serializers.IntegerField(
        help_text=_("Send it back as expected_version to detect concurrent edits.")
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ProductPageSerializer(serializers.Serializer):
    results = ProductSerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


# Inputs are loose (strings are fine): the service checks every field and answers with all the errors.
class ProductInputSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=200, allow_blank=True)
    name = serializers.CharField(max_length=400, allow_blank=True)
    model = serializers.CharField(max_length=200, allow_blank=True, required=False)
    unit = serializers.CharField(max_length=60, allow_blank=True, required=False)
    category = serializers.CharField(max_length=200, allow_blank=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    list_price = serializers.CharField(
        max_length=40, allow_blank=True, help_text=_('A decimal string: "12.50".')
    )
    currency = serializers.CharField(max_length=10, allow_blank=True)
    tax_rate = serializers.CharField(max_length=20, allow_blank=True, required=False)
    is_active = serializers.BooleanField(required=False)


class ProductUpdateSerializer(ProductInputSerializer):
    sku = serializers.CharField(max_length=200, allow_blank=True, required=False)
    name = serializers.CharField(max_length=400, allow_blank=True, required=False)
    list_price = serializers.CharField(max_length=40, allow_blank=True, required=False)
    currency = serializers.CharField(max_length=10, allow_blank=True, required=False)
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The version you loaded; another save since then is a 409."),
    )


class PriceSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    customer = serializers.CharField(allow_null=True, help_text=_("Customer number."))
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    date = serializers.DateField()
    unit_price = _money()
    currency = serializers.CharField()
    source = serializers.ChoiceField(choices=PriceSource.choices)  # type: ignore[assignment]
    price_list = serializers.IntegerField(allow_null=True)
    price_list_name = serializers.CharField(allow_null=True)
    min_quantity = serializers.DecimalField(max_digits=14, decimal_places=3, allow_null=True)


class PriceListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    sku = serializers.CharField(source="product.sku")
    unit_price = _money()
    min_quantity = serializers.DecimalField(max_digits=14, decimal_places=3)


class PriceListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    currency = serializers.CharField()
    customer_group = serializers.IntegerField(source="customer_group_id", allow_null=True)
    customer_group_path = serializers.CharField(source="customer_group.path", allow_null=True, default=None)
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PriceListDetailSerializer(PriceListSerializer):
    items = PriceListItemSerializer(many=True)


class PriceListItemInputSerializer(StrictSerializer):
    product = serializers.IntegerField(help_text=_("Product id."))
    unit_price = serializers.CharField(max_length=40, allow_blank=True)
    min_quantity = serializers.CharField(max_length=40, allow_blank=True, required=False)


class PriceListInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    currency = serializers.CharField(max_length=10, allow_blank=True)
    customer_group = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("Category id (kith.parties classification); null: everyone."),
    )
    valid_from = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    valid_to = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    items = PriceListItemInputSerializer(many=True, required=False)


class PriceListUpdateSerializer(PriceListInputSerializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    currency = serializers.CharField(max_length=10, allow_blank=True, required=False)
    items = PriceListItemInputSerializer(
        many=True, required=False, help_text=_("When given, replaces the list's items.")
    )
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class ExchangeRateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_currency = serializers.CharField()
    to_currency = serializers.CharField()
    rate = serializers.DecimalField(max_digits=18, decimal_places=8)
    date = serializers.DateField()
    created_at = serializers.DateTimeField()


class ExchangeRateInputSerializer(StrictSerializer):
    from_currency = serializers.CharField(max_length=10, allow_blank=True)
    to_currency = serializers.CharField(max_length=10, allow_blank=True)
    rate = serializers.CharField(
        max_length=40, allow_blank=True, help_text=_("1 from_currency = rate to_currency.")
    )
    date = serializers.CharField(max_length=20, allow_blank=True)
