"""Consumption lines: what a customer bought, returned or used, one invoice or usage line each (the ground of
the consumption statistics; the counting rules are in ``kith.sales.selectors.consumption``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A unit price keeps up to four decimals (a per-item price of bulk goods, a telecom rate per MB); the line's
# amount is rounded to the currency's minor units (``kith.sales.currencies.places``).
UNIT_PRICE_PLACES = 4


class ConsumptionKind(models.TextChoices):
    PURCHASE = "purchase", _("purchase")
    RETURN = "return", _("return or cancellation")
    USAGE = "usage", _("service usage")
    NON_PRODUCT = "non_product", _("not a product (postage, fees, adjustments)")


class ConsumptionSource(models.TextChoices):
    MANUAL = "manual", _("entered by hand")
    IMPORT = "import", _("import")
    API = "api", _("API")
    ORDER = "order", _("order")


class ConsumptionLine(models.Model):
    # no index of its own: the (customer, occurred_on) index below starts with it
    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.PROTECT,
        related_name="consumption_lines",
        db_index=False,
        verbose_name=_("customer"),
    )
    occurred_on = models.DateField(
        _("date"), help_text=_("The invoice or usage date; statistics count by it.")
    )
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    product = models.ForeignKey(
        "sales.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    # as given: a line may name a code that is no product (postage, a fee)
    sku = models.CharField(_("code"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # negative for a return or a cancellation
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=UNIT_PRICE_PLACES)
    # quantity × unit price, rounded half up to the currency's minor units
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    kind = models.CharField(_("kind"), max_length=12, choices=ConsumptionKind.choices)
    source = models.CharField(
        _("source"), max_length=10, choices=ConsumptionSource.choices, default=ConsumptionSource.MANUAL
    )
    # the invoice (or usage statement) number; with the line number the key that makes a re-push harmless
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    line_number = models.PositiveIntegerField(_("line"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ("-occurred_on", "-id")
        verbose_name = _("consumption line")
        verbose_name_plural = _("consumption lines")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "reference", "line_number"],
                condition=~Q(reference="") & Q(line_number__isnull=False),
                name="sales_consumption_line_key",
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_consumption_price_gte_0"),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lte=models.F("period_end")),
                name="sales_consumption_period_order",
            ),
        ]
        indexes = [
            # one customer's lines over a range, a group's (customer IN ...) the same way per customer; the
            # statistics read only this index, without a visit to each row. A narrower (customer, day)
            # index beside it was dropped (sales 0013): PostgreSQL preferred it for the statistics and then
            # read every line's row (10,000 customers over a year at 10M lines: 240 -> 190 ms in process)
            models.Index(
                fields=[
                    "customer",
                    "occurred_on",
                    "kind",
                    "currency",
                    "sku",
                    "unit_price",
                    "quantity",
                    "amount",
                    "reference",
                ],
                name="sales_consumption_stats",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.sku or self.description[:40]} × {self.quantity}"
