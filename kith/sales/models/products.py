"""Products and services that are sold: SKU, name, model, unit, category, list price and tax rate."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel


class Product(TimestampedModel, VersionedModel):
    # the SKU as typed; unique whatever its case (the constraint on UPPER(sku) below)
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    model = models.CharField(_("model"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=30, default="pcs", help_text=_("e.g. pcs, hour, GB, month"))
    # free text (a product catalogue is not a customer classification); listed for filtering
    category = models.CharField(_("category"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, default=0, help_text=_("Percent, 0 to 100.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("sku", "id")
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(Upper("sku"), name="sales_product_sku_ci_unique"),
            models.CheckConstraint(condition=models.Q(list_price__gte=0), name="sales_product_price_gte_0"),
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0, tax_rate__lte=100), name="sales_product_tax_rate_range"
            ),
        ]
        indexes = [
            models.Index(fields=["name"], name="sales_product_name_idx"),
            models.Index(fields=["category", "sku"], name="sales_product_category_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
