"""Invoices (from an order or by hand) and the payments that settle them; what a customer still owes is
the invoices' totals less the payments, per currency."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kith.core.models import TimestampedModel, VersionedModel


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("open")
    PARTIALLY_PAID = "partial", _("partially paid")
    PAID = "paid", _("paid")
    VOID = "void", _("void")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("bank transfer")
    CARD = "card", _("card")
    CASH = "cash", _("cash")
    CHEQUE = "cheque", _("cheque")
    OTHER = "other", _("other")


class Invoice(TimestampedModel, VersionedModel):
    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        "parties.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    # who looks after it (visibility): the order's owner, else whoever wrote it
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_invoices",
    )
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    issued_on = models.DateField(_("issue date"))
    due_on = models.DateField(_("due date"))
    total = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # the sum of the invoice's payments (kept by the payment service)
    paid = models.DecimalField(_("paid"), max_digits=16, decimal_places=2, default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-issued_on", "-id")
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="sales_invoice_total_gt_0"),
            models.CheckConstraint(condition=Q(paid__gte=0), name="sales_invoice_paid_gte_0"),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="sales_invoice_customer_idx"),
            models.Index(fields=["owner", "status"], name="sales_invoice_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding(self):  # type: ignore[no-untyped-def]
        return self.total - self.paid


class Payment(TimestampedModel):
    customer = models.ForeignKey(
        "parties.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payments"
    )
    # none: a payment on account (it lowers the customer's balance in its currency)
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-paid_on", "-id")
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="sales_payment_amount_gt_0"),
        ]
        indexes = [models.Index(fields=["customer", "currency"], name="sales_payment_customer_idx")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
