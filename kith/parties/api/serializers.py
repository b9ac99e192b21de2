"""API input checking and output shapes of the parties domain. Input serializers only check types and sizes;
the business rules live in the services, which the views call with the validated values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from kith.core.api_views import ErrorSerializer, StrictSerializer
from kith.parties.choices import (
    AddressLabel,
    Channel,
    CompanySize,
    CustomerKind,
    CustomerStatus,
    CustomFieldType,
    EmailLabel,
    Gender,
    InteractionKind,
    KindScope,
    MaritalStatus,
    Outcome,
    PhoneLabel,
    Source,
    SpecialDateKind,
)
from kith.parties.models import Address, Customer

BIGINT = 2**63 - 1
INT32 = 2**31 - 1
MAX_ITEMS = 100
MAX_TEXT = 20_000
BULK_MAX_ITEMS = 500


def _max_length(model: type[Model], name: str) -> int:
    return int(getattr(model._meta.get_field(name), "max_length", 0) or MAX_TEXT)


def _optional_text(model: type[Model], name: str, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=_max_length(model, name), required=False, allow_blank=True, allow_null=True, **kwargs
    )


def choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=choices.choices, **kwargs)


def _optional_choice(choices: Any) -> serializers.ChoiceField:
    return choice(choices, required=False, allow_blank=True, allow_null=True)


def _utc_datetime() -> serializers.DateTimeField:
    """Output times in UTC ("Z"), like the list rows the renderer writes directly, whatever TIME_ZONE is."""
    return serializers.DateTimeField(default_timezone=dt.UTC)


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=BIGINT, **kwargs)


# --- input -------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
        ],
        "nullable": True,
    }
)
class CustomValueField(serializers.Field):
    """A custom-field value: a JSON scalar or a list of scalars; the service checks it against its definition."""

    default_error_messages = {
        "invalid": _("Give a text, number, yes/no value or a list of them."),
        "too_long": _("This value is too long."),
    }

    def to_internal_value(self, data: Any) -> Any:
        items = data if isinstance(data, list) else [data]
        if isinstance(data, list) and len(data) > MAX_ITEMS:
            self.fail("too_long")
        for item in items:
            if item is not None and not isinstance(item, str | int | float | bool):
                self.fail("invalid")
            if isinstance(item, str) and len(item) > MAX_TEXT:
                self.fail("too_long")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class PhoneInputSerializer(StrictSerializer):
    number = serializers.CharField(max_length=40)
    label = choice(PhoneLabel, required=False)  # type: ignore[assignment]
    extension = serializers.CharField(max_length=10, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)
    region = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        help_text=_("Region to read a number without country code, e.g. CN or DE."),
    )


class EmailInputSerializer(StrictSerializer):
    address = serializers.CharField(max_length=254)
    label = choice(EmailLabel, required=False)  # type: ignore[assignment]
    is_primary = serializers.BooleanField(required=False)


class AddressInputSerializer(StrictSerializer):
    label = choice(AddressLabel, required=False)  # type: ignore[assignment]
    line1 = serializers.CharField(max_length=_max_length(Address, "line1"))
    line2 = serializers.CharField(max_length=_max_length(Address, "line2"), required=False, allow_blank=True)
    postal_code = serializers.CharField(
        max_length=_max_length(Address, "postal_code"), required=False, allow_blank=True
    )
    city = serializers.CharField(max_length=_max_length(Address, "city"), required=False, allow_blank=True)
    region = serializers.CharField(
        max_length=_max_length(Address, "region"), required=False, allow_blank=True
    )
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)


class CustomerInputSerializer(StrictSerializer):
    """Master data, contact points and classification; every field optional (the service knows what's needed)."""

    display_name = _optional_text(Customer, "display_name")
    status = _optional_choice(CustomerStatus)
    owner = _id_field(required=False, allow_null=True, help_text=_("Id of the account manager."))
    source = _optional_choice(Source)  # type: ignore[assignment]
    channel = _optional_text(Customer, "channel")
    notes = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )
    family_name = _optional_text(Customer, "family_name")
    given_name = _optional_text(Customer, "given_name")
    gender = _optional_choice(Gender)
    birth_date = serializers.DateField(required=False, allow_null=True)
    marital_status = _optional_choice(MaritalStatus)
    id_document_number = _optional_text(Customer, "id_document_number")
    legal_name = _optional_text(Customer, "legal_name")
    short_name = _optional_text(Customer, "short_name")
    industry = _optional_text(Customer, "industry")
    founded_date = serializers.DateField(required=False, allow_null=True)
    registration_number = _optional_text(Customer, "registration_number")
    company_size = _optional_choice(CompanySize)
    annual_revenue = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    annual_revenue_currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, allow_null=True
    )
    phones = PhoneInputSerializer(many=True, required=False, max_length=MAX_ITEMS)  # type: ignore[call-arg]
    emails = EmailInputSerializer(many=True, required=False, max_length=MAX_ITEMS)  # type: ignore[call-arg]
    addresses = AddressInputSerializer(many=True, required=False, max_length=MAX_ITEMS)  # type: ignore[call-arg]
    custom_data = serializers.DictField(
        child=CustomValueField(allow_null=True),
        required=False,
        help_text=_("Custom field values by key; on update only the keys given change."),
    )
    categories = serializers.ListField(
        child=_id_field(), required=False, max_length=MAX_ITEMS, help_text=_("Category ids.")
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        max_length=MAX_ITEMS,
        help_text=_("Tag names; unknown tags are created."),
    )
    roles = serializers.ListField(
        child=_id_field(), required=False, max_length=MAX_ITEMS, help_text=_("Role ids.")
    )


class CustomerCreateSerializer(CustomerInputSerializer):
    kind = choice(CustomerKind)


class CustomerUpdateSerializer(CustomerInputSerializer):
    version = serializers.IntegerField(
        min_value=1,
        max_value=INT32,
        help_text=_("The version you loaded; a newer one on the server is a 409."),
    )


class CustomerBulkUpdateSerializer(CustomerUpdateSerializer):
    """An update item of a bulk request (documentation: the view checks the rest as for PATCH)."""

    customer_number = serializers.CharField(max_length=40, help_text=_("The customer to change."))


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="CustomerBulkItem",
        serializers=[CustomerCreateSerializer, CustomerBulkUpdateSerializer],
        resource_type_field_name=None,
    )
)
class CustomerBulkItemField(serializers.DictField):
    """One item: an object, checked by the view as the single create or update checks its body."""


class CustomerBulkSerializer(StrictSerializer):
    """Creates and updates of many customers in one request."""

    items = serializers.ListField(
        child=CustomerBulkItemField(),
        min_length=1,
        max_length=BULK_MAX_ITEMS,
        help_text=_(
            "1 to 500 items: a create body, or customer_number and version with the fields to change."
        ),
    )
    atomic = serializers.BooleanField(
        default=False, help_text=_("All or nothing: one refused item saves none of them.")
    )


class VersionSerializer(StrictSerializer):
    version = serializers.IntegerField(min_value=1, max_value=INT32, required=False)


class InteractionCreateSerializer(StrictSerializer):
    customer = serializers.CharField(max_length=40, help_text=_("Customer number."))
    kind = choice(InteractionKind)
    occurred_at = serializers.DateTimeField(required=False)
    channel = choice(Channel, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=200)
    content = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    outcome = choice(Outcome, required=False, allow_blank=True)
    follow_up_date = serializers.DateField(required=False, allow_null=True)


class InteractionUpdateSerializer(StrictSerializer):
    version = serializers.IntegerField(min_value=1, max_value=INT32)
    kind = choice(InteractionKind, required=False)
    occurred_at = serializers.DateTimeField(required=False)
    channel = choice(Channel, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=200, required=False)
    content = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    outcome = choice(Outcome, required=False, allow_blank=True)
    follow_up_date = serializers.DateField(required=False, allow_null=True)


class RelationshipCreateSerializer(StrictSerializer):
    type = _id_field(help_text=_("Relationship type id."))
    from_customer = serializers.CharField(max_length=40, help_text=_("Customer number."))
    to_customer = serializers.CharField(max_length=40, help_text=_("Customer number."))
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class SpecialDateCreateSerializer(StrictSerializer):
    kind = choice(SpecialDateKind)
    label = serializers.CharField(max_length=100, required=False, allow_blank=True)  # type: ignore[assignment]
    year = serializers.IntegerField(min_value=1, max_value=9999, required=False, allow_null=True)
    month = serializers.IntegerField(min_value=1, max_value=12)
    day = serializers.IntegerField(min_value=1, max_value=31)


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


# Catalogue input (admins). Partial on update: only the keys given change.


class CustomFieldInputSerializer(StrictSerializer):
    key = serializers.CharField(max_length=60)
    label = serializers.CharField(max_length=120)  # type: ignore[assignment]
    field_type = choice(CustomFieldType)
    applies_to = choice(KindScope, required=False)
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]
    choices = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=500
    )
    min_value = serializers.DecimalField(max_digits=20, decimal_places=6, required=False, allow_null=True)
    max_value = serializers.DecimalField(max_digits=20, decimal_places=6, required=False, allow_null=True)
    max_length = serializers.IntegerField(min_value=1, max_value=INT32, required=False, allow_null=True)
    pattern = serializers.CharField(max_length=200, required=False, allow_blank=True)
    help_text = serializers.CharField(max_length=300, required=False, allow_blank=True)  # type: ignore[assignment]
    is_active = serializers.BooleanField(required=False)
    is_sensitive = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=0, max_value=INT32, required=False)


class CategoryTreeInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    allow_multiple = serializers.BooleanField(required=False)


class CategoryCreateSerializer(StrictSerializer):
    tree = _id_field()
    parent = _id_field(required=False, allow_null=True)  # type: ignore[assignment]
    name = serializers.CharField(max_length=100)


class CategoryUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    is_active = serializers.BooleanField(required=False)


class TagInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=60)
    color = serializers.CharField(max_length=7, required=False, allow_blank=True)


class RoleInputSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class RelationshipTypeInputSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100)
    inverse_name = serializers.CharField(max_length=100)
    from_kind = choice(KindScope, required=False)
    to_kind = choice(KindScope, required=False)
    is_active = serializers.BooleanField(required=False)


class NumberPatternSerializer(StrictSerializer):
    pattern = serializers.CharField(max_length=100)


class NumberPatternOutputSerializer(serializers.Serializer):
    pattern = serializers.CharField()
    example = serializers.CharField(help_text=_("What the next number would look like."))


# --- output ------------------------------------------------------------------------------------


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class CustomerRefSerializer(serializers.Serializer):
    customer_number = serializers.CharField()
    display_name = serializers.CharField()
    kind = serializers.CharField()


class PhoneSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    number = serializers.CharField(help_text=_("E.164"))
    national_number = serializers.CharField()
    extension = serializers.CharField()
    is_primary = serializers.BooleanField()


class EmailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    address = serializers.CharField()
    is_primary = serializers.BooleanField()


class AddressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    country = serializers.CharField()
    is_primary = serializers.BooleanField()


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tree_id = serializers.IntegerField()
    tree = serializers.CharField(source="tree.name")
    parent_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    path = serializers.CharField(help_text=_("Path inside the tree, e.g. Telecom/Mobile."))
    label = serializers.CharField(source="__str__", help_text=_("Tree and path, e.g. Industry › Telecom."))  # type: ignore[assignment]
    depth = serializers.IntegerField()
    is_active = serializers.BooleanField()


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()


class CustomerDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer_number = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    display_name = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    owner = UserRefSerializer(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    channel = serializers.CharField()
    notes = serializers.CharField()
    family_name = serializers.CharField()
    given_name = serializers.CharField()
    gender = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    marital_status = serializers.CharField()
    id_document_number = serializers.CharField()
    legal_name = serializers.CharField()
    short_name = serializers.CharField()
    industry = serializers.CharField()
    founded_date = serializers.DateField(allow_null=True)
    registration_number = serializers.CharField()
    company_size = serializers.CharField()
    annual_revenue = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    annual_revenue_currency = serializers.CharField()
    custom_data = serializers.DictField(child=CustomValueField())
    phones = PhoneSerializer(many=True)
    emails = EmailSerializer(many=True)
    addresses = AddressSerializer(many=True)
    categories = CategorySerializer(many=True)
    tags = TagSerializer(many=True)
    roles = RoleSerializer(many=True)
    version = serializers.IntegerField()
    created_at = _utc_datetime()
    updated_at = _utc_datetime()


class CustomerRowSerializer(serializers.Serializer):
    """One row of the customer list (documentation; the view writes the selector's dicts directly)."""

    id = serializers.IntegerField()
    customer_number = serializers.CharField()
    kind = choice(CustomerKind)
    display_name = serializers.CharField()
    status = choice(CustomerStatus)
    owner_id = serializers.IntegerField(allow_null=True)
    primary_phone = serializers.CharField()
    primary_email = serializers.CharField()
    created_at = _utc_datetime()
    updated_at = _utc_datetime()
    url = serializers.URLField()


class CustomerListSerializer(serializers.Serializer):
    results = CustomerRowSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True)


class TimelineEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    occurred_at = _utc_datetime()
    title = serializers.CharField()
    summary = serializers.CharField()
    actor = UserRefSerializer(allow_null=True)
    source_type = serializers.CharField(allow_null=True, help_text=_("app_label.model of the record."))
    source_id = serializers.IntegerField(allow_null=True)


class TimelinePageSerializer(serializers.Serializer):
    results = TimelineEntrySerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True)


class RelationshipTypeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    inverse_name = serializers.CharField()
    from_kind = serializers.CharField()
    to_kind = serializers.CharField()
    is_symmetric = serializers.BooleanField()
    is_active = serializers.BooleanField()


class RelationshipSideSerializer(serializers.Serializer):
    """A relationship seen from one customer: ``label`` is the wording from that side."""

    id = serializers.IntegerField()
    type_id = serializers.IntegerField()
    type_code = serializers.CharField()
    label = serializers.CharField(  # type: ignore[assignment]
        help_text=_("e.g. “employs” from the company, “employed by” from the person.")
    )
    outgoing = serializers.BooleanField()
    other = CustomerRefSerializer()
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    note = serializers.CharField()


class RelationshipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = RelationshipTypeSerializer()
    from_customer = CustomerRefSerializer()
    to_customer = CustomerRefSerializer()
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    created_at = _utc_datetime()


class SpecialDateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    year = serializers.IntegerField(allow_null=True)
    month = serializers.IntegerField()
    day = serializers.IntegerField()
    derived = serializers.BooleanField(help_text=_("Kept in step with the birth or founding date."))
    next_occurrence = serializers.DateField()
    years_at_next = serializers.IntegerField(allow_null=True)


class CustomFieldValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    field_type = serializers.CharField()
    value = CustomValueField(allow_null=True)
    is_active = serializers.BooleanField()
    is_sensitive = serializers.BooleanField()


class CustomerPageSerializer(serializers.Serializer):
    customer = CustomerDetailSerializer()
    custom_fields = CustomFieldValueSerializer(many=True)
    relationships = RelationshipSideSerializer(many=True)
    timeline = TimelinePageSerializer()
    special_dates = SpecialDateSerializer(many=True)


class InteractionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = CustomerRefSerializer()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    occurred_at = _utc_datetime()
    actor = UserRefSerializer(allow_null=True)
    channel = serializers.CharField()
    subject = serializers.CharField()
    content = serializers.CharField()
    outcome = serializers.CharField()
    follow_up_date = serializers.DateField(allow_null=True)
    version = serializers.IntegerField()
    created_at = _utc_datetime()
    updated_at = _utc_datetime()


class InteractionPageSerializer(serializers.Serializer):
    results = InteractionSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True)


class AnniversarySerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    customer_number = serializers.CharField()
    display_name = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    date = serializers.DateField()
    years = serializers.IntegerField(allow_null=True)


class CustomFieldSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    applies_to = serializers.CharField()
    field_type = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]
    choices = serializers.ListField(child=serializers.CharField())
    min_value = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    max_value = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    max_length = serializers.IntegerField(allow_null=True)
    pattern = serializers.CharField()
    help_text = serializers.CharField()  # type: ignore[assignment]
    is_active = serializers.BooleanField()
    is_sensitive = serializers.BooleanField()
    position = serializers.IntegerField()


class CategoryTreeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    allow_multiple = serializers.BooleanField()


class CustomerBulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Position of the item in the request, from 0."))
    status = serializers.CharField(help_text=_("created, updated, error or rolled_back (atomic, refused)."))
    customer_number = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(allow_null=True, help_text=_("The version after the change."))
    code = serializers.CharField(required=False, help_text=_("Of an error: invalid, conflict, not_found ..."))
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


class CustomerBulkResponseSerializer(serializers.Serializer):
    results = CustomerBulkResultSerializer(many=True)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    failed = serializers.IntegerField()


class CustomerBulkErrorSerializer(ErrorSerializer):
    """A refused bulk request: the items' errors as ``items.<index>.<field>``; with atomic, the results."""

    results = CustomerBulkResultSerializer(many=True, required=False)
    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    failed = serializers.IntegerField(required=False)
