"""Orders (usually from an accepted quote), their lines, and the shipments that deliver them, in part or
in whole; and the counters that number orders and invoices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    CONFIRMED = "confirmed", _("confirmed")
    PARTIALLY_SHIPPED = "partial", _("partially shipped")
    SHIPPED = "shipped", _("shipped")
    CANCELLED = "cancelled", _("cancelled")


class DocumentSequence(models.Model):
    """The last number given per kind of document (``order``, ``invoice``); one row each, locked while a
    number is taken, so a number is never given twice, even when its document is deleted."""

    key = models.CharField(max_length=30, unique=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class Order(TimestampedModel, VersionedModel):
    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        "parties.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_orders",
    )
    # the accepted quote the order came from: one order per quote
    quote = models.OneToOneField(
        "sales.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    currency = models.CharField(_("currency"), max_length=3)
    requested_delivery_date = models.DateField(_("requested delivery date"), null=True, blank=True)
    # computed by the service from the lines (kith.sales.services.quote_totals: exact, half up per line)
    subtotal = models.DecimalField(_("subtotal"), max_digits=16, decimal_places=2, default=0)
    discount_total = models.DecimalField(_("discount"), max_digits=16, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)
    notes = models.TextField(_("notes"), blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="sales_order_customer_idx"),
            models.Index(fields=["owner", "status"], name="sales_order_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
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
    # the product's model (type designation) as ordered; "model" itself confuses the type checker's Django plugin
    product_model = models.CharField(_("model"), max_length=100, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=0)
    net = models.DecimalField(_("net"), max_digits=16, decimal_places=2, default=0)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)
    requested_delivery_date = models.DateField(_("requested delivery date"), null=True, blank=True)
    shipped_quantity = models.DecimalField(_("shipped"), max_digits=14, decimal_places=3, default=0)
    # what a cancellation took off after part of the line was shipped
    cancelled_quantity = models.DecimalField(_("cancelled"), max_digits=14, decimal_places=3, default=0)

    class Meta:
        ordering = ("order", "position", "id")
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_orderline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_orderline_price_gte_0"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="sales_orderline_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(shipped_quantity__gte=0)
                & Q(cancelled_quantity__gte=0)
                & Q(shipped_quantity__lte=F("quantity") - F("cancelled_quantity")),
                name="sales_orderline_shipped_range",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def open_quantity(self):  # type: ignore[no-untyped-def]
        """What is left to ship."""
        return self.quantity - self.shipped_quantity - self.cancelled_quantity


class Shipment(TimestampedModel):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    # the order's number and the shipment's place: S2026-00001-1, -2 ...
    number = models.CharField(_("number"), max_length=40, unique=True)
    shipped_on = models.DateField(_("shipped on"))
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking = models.CharField(_("tracking number"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("order", "shipped_on", "id")
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    # the line's place among every shipped line of the order (1, 2 ...): the consumption line's number
    line_number = models.PositiveIntegerField(_("line"))

    class Meta:
        ordering = ("shipment", "line_number")
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_shipmentline_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line} × {self.quantity}"
