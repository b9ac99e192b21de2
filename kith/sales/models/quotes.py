"""Quotes: priced line items for a customer (usually of an opportunity), kept in revisions; sent as a PDF
by email; an accepted quote becomes an order."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel
from kith.sales.choices import QuoteStatus


class QuoteNumberSequence(models.Model):
    """The last quote number given (one row); numbers are never reused."""

    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.last)


class Quote(TimestampedModel, VersionedModel):
    # every revision of one quote shares the number; (number, revision) is unique
    number = models.CharField(_("number"), max_length=30)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    customer = models.ForeignKey(
        "parties.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotes"
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_quotes",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    currency = models.CharField(_("currency"), max_length=3)
    price_list = models.ForeignKey(
        "sales.PriceList", verbose_name=_("price list"), null=True, blank=True, on_delete=models.SET_NULL
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # computed by the service from the lines (exact decimals, rounded per line to the currency)
    subtotal = models.DecimalField(_("subtotal"), max_digits=16, decimal_places=2, default=0)
    discount_total = models.DecimalField(_("discount"), max_digits=16, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)
    terms = models.TextField(_("terms and notes"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True)
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="sales_quote_number_revision"),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="sales_quote_customer_idx"),
            models.Index(fields=["opportunity", "-revision"], name="sales_quote_opp_idx"),
            models.Index(fields=["owner", "status"], name="sales_quote_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number}/{self.revision}"


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        "sales.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=0)
    # computed: quantity x unit price, less the discount; the tax on it; and the two together
    net = models.DecimalField(_("net"), max_digits=16, decimal_places=2, default=0)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ("quote", "position", "id")
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="sales_quoteline_quantity_gt_0"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="sales_quoteline_price_gte_0"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="sales_quoteline_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.description
