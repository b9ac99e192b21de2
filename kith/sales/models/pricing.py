"""Price lists (per currency, optionally for one customer group) with their items, and exchange rates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel
from kith.sales.models.products import Product


class PriceList(TimestampedModel, VersionedModel):
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    # The customer group is a classification category (kith.parties): a customer in it, or in a category
    # below it, gets the list. Empty: every customer.
    customer_group = models.ForeignKey(
        "parties.Category",
        verbose_name=_("customer group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="price_lists",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("name", "id")
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="sales_pricelist_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceListItem(models.Model):
    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="price_list_items"
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    min_quantity = models.DecimalField(_("from quantity"), max_digits=14, decimal_places=3, default=1)

    class Meta:
        ordering = ("price_list", "product", "min_quantity")
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"], name="sales_pricelistitem_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="sales_pricelistitem_price_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(min_quantity__gt=0), name="sales_pricelistitem_qty_gt_0"
            ),
        ]
        # price_for: the items of one product
        indexes = [models.Index(fields=["product", "price_list"], name="sales_item_product_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} ≥ {self.min_quantity}: {self.unit_price}"


class ExchangeRate(TimestampedModel):
    """1 ``from_currency`` = ``rate`` ``to_currency`` from ``date`` on (until a later rate of the pair)."""

    from_currency = models.CharField(_("from currency"), max_length=3)
    to_currency = models.CharField(_("to currency"), max_length=3)
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)
    date = models.DateField(_("date"))

    class Meta:
        ordering = ("-date", "from_currency", "to_currency")
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["from_currency", "to_currency", "date"], name="sales_exchangerate_unique"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="sales_exchangerate_rate_gt_0"),
        ]
        indexes = [
            models.Index(fields=["from_currency", "to_currency", "-date"], name="sales_rate_lookup_idx")
        ]

    def __str__(self) -> str:
        return f"1 {self.from_currency} = {self.rate} {self.to_currency} ({self.date})"
