"""The customer record (person or company) and its contact points."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.core.crypto import BlindIndexField, EncryptedDateField, EncryptedTextField, SealedKeysJSONField
from kith.core.models import TimestampedModel, VersionedModel
from kith.parties.choices import (
    AddressLabel,
    CompanySize,
    CustomerKind,
    CustomerStatus,
    EmailLabel,
    Gender,
    MaritalStatus,
    PhoneLabel,
    Source,
)
from kith.parties.models.catalogues import Category, PartyRole, Tag


class CustomerNumberSequence(models.Model):
    """The last number handed out per scope (the pattern's text before the sequence, e.g. ``C2026``).

    Numbers only ever go up, so a deleted or merged customer's number is never given again.
    """

    scope = models.CharField(max_length=40, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.scope}: {self.last_value}"


class Customer(TimestampedModel, VersionedModel):
    customer_number = models.CharField(_("customer number"), max_length=40, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices)
    display_name = models.CharField(_("display name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.PROSPECT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    # person
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    # encrypted at rest (kith.core.crypto); the birthday's day and month are also in SpecialDate
    birth_date = EncryptedDateField(_("birth date"), null=True, blank=True)
    marital_status = models.CharField(
        _("marital status"), max_length=12, choices=MaritalStatus.choices, blank=True
    )
    id_document_number = EncryptedTextField(_("ID document number"), max_length=60, blank=True)
    id_document_index = BlindIndexField(
        source="id_document_number",
        purpose="id_document",
        normalise="kith.parties.services.contact_points.id_number_key",
        db_index=True,
    )

    # company
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    founded_date = models.DateField(_("founded"), null=True, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=60, blank=True)
    company_size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    annual_revenue_currency = models.CharField(_("revenue currency"), max_length=3, blank=True)

    # the values of custom fields marked sensitive are encrypted (kith.core.crypto.SealedKeysJSONField)
    custom_data = SealedKeysJSONField(
        _("custom fields"), default=dict, blank=True, sensitive="kith.parties.sensitive.sensitive_custom_keys"
    )
    categories = models.ManyToManyField(
        Category, blank=True, related_name="customers", verbose_name=_("categories")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    roles = models.ManyToManyField(PartyRole, blank=True, related_name="customers", verbose_name=_("roles"))

    # Search keys, maintained by the services (never edited by hand): the casefolded name, and for names
    # written in Chinese characters their pinyin ("zhangsan") and initials ("zs").
    search_name = models.CharField(max_length=200, editable=False, default="")
    search_pinyin = models.CharField(max_length=400, editable=False, default="", blank=True)
    search_initials = models.CharField(max_length=60, editable=False, default="", blank=True)

    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["search_name", "id"], name="customer_search_name_idx"),
            # pinyin matches are paged by name: the name in the index spares a row lookup per match
            models.Index(fields=["search_initials", "search_name", "id"], name="customer_initials_idx"),
            models.Index(fields=["search_pinyin", "search_name", "id"], name="customer_pinyin_idx"),
            models.Index(fields=["status", "id"], name="customer_status_idx"),
            models.Index(fields=["owner", "id"], name="customer_owner_idx"),
            models.Index(fields=["kind", "id"], name="customer_kind_idx"),
            models.Index(fields=["created_at", "id"], name="customer_created_idx"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.customer_number})"

    @property
    def is_person(self) -> bool:
        return self.kind == CustomerKind.PERSON

    @property
    def is_company(self) -> bool:
        return self.kind == CustomerKind.COMPANY


class Phone(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    label = models.CharField(_("label"), max_length=10, choices=PhoneLabel.choices, default=PhoneLabel.MOBILE)
    # encrypted at rest; found through the keyed blind indexes of the E.164 and the national number
    number = EncryptedTextField(_("number (E.164)"))
    national_number = EncryptedTextField(editable=False)
    number_index = BlindIndexField(source="number", purpose="phone")
    national_index = BlindIndexField(source="national_number", purpose="phone_national")
    extension = models.CharField(_("extension"), max_length=10, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [
            models.Index(fields=["number_index"], name="phone_number_bidx"),
            models.Index(fields=["national_index"], name="phone_national_bidx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "number_index"], name="phone_unique_per_customer")
        ]

    def __str__(self) -> str:
        return self.number

    def audit_repr(self) -> str:
        """What the audit trail keeps as this row's name (forever: it is hash-chained): the label and the
        last two digits, never the number (which the entry keeps encrypted)."""
        digits = "".join(ch for ch in self.number or "" if ch.isdigit())
        return f"{self.get_label_display()} …{digits[-2:]}"


class Email(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    label = models.CharField(_("label"), max_length=10, choices=EmailLabel.choices, default=EmailLabel.WORK)
    address = models.EmailField(_("address"), max_length=254)
    address_key = models.CharField(max_length=254, editable=False)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["address_key"], name="email_key_idx")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "address_key"], name="email_unique_per_customer"),
        ]

    def __str__(self) -> str:
        return self.address


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(
        _("label"), max_length=10, choices=AddressLabel.choices, default=AddressLabel.OFFICE
    )
    line1 = models.CharField(_("street and number"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region / province"), max_length=100, blank=True)
    country = models.CharField(_("country (ISO code)"), max_length=2, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return ", ".join(p for p in [self.line1, self.line2, self.postal_code, self.city, self.country] if p)
