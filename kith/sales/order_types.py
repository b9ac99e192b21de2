"""The object types, timeline kinds and daily job of orders, contracts and invoices: ``register()`` is
called once from ``kith.sales.apps.SalesConfig.ready`` (and is harmless when called again)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ORDER = "order"  # orders and their shipments
CONTRACT = "contract"
INVOICE = "invoice"  # invoices and their payments

TIMELINE_ORDER = "sales.order"
TIMELINE_SHIPMENT = "sales.shipment"
TIMELINE_CONTRACT = "sales.contract"
TIMELINE_INVOICE = "sales.invoice"
TIMELINE_PAYMENT = "sales.payment"

RENEWAL_JOB = "sales.contract_renewals"


def register() -> None:
    from kith.core import schedule, timeline
    from kith.security.rules import CREATE, DELETE, EDIT, EXPORT, IMPORT, VIEW, register_object_type

    actions = (VIEW, CREATE, EDIT, DELETE, EXPORT, IMPORT)
    register_object_type(
        ORDER,
        _("orders"),
        actions=actions,
        model="sales.Order",
        description=_("Customer orders, their lines and shipments."),
    )
    register_object_type(
        CONTRACT,
        _("contracts"),
        actions=actions,
        model="sales.Contract",
        description=_("Contracts with customers: term, value, renewal and the signed document."),
    )
    register_object_type(
        INVOICE,
        _("invoices"),
        actions=actions,
        model="sales.Invoice",
        description=_("Invoices and the payments received on them."),
    )
    from kith.sales import timeline_visibility as seen

    timeline.register_kind(TIMELINE_ORDER, _("Order"), icon="▤", group="sales", visible=seen.orders)
    timeline.register_kind(TIMELINE_SHIPMENT, _("Shipment"), icon="⇢", group="sales", visible=seen.shipments)
    timeline.register_kind(TIMELINE_CONTRACT, _("Contract"), icon="✎", group="sales", visible=seen.contracts)
    timeline.register_kind(TIMELINE_INVOICE, _("Invoice"), icon="≡", group="sales", visible=seen.invoices)
    timeline.register_kind(TIMELINE_PAYMENT, _("Payment"), icon="✓", group="sales", visible=seen.payments)

    # the stored file's name is random and says nothing: its original name, size and SHA-256 are recorded
    from kith.audit import registry

    registry.audit_model("sales.Contract", exclude=("document",), root="customer_id")
    for label in ("sales.Order", "sales.Invoice", "sales.Payment"):
        registry.audit_model(label, root="customer_id")

    from kith.sales.contract_tasks import enqueue_contract_renewals

    schedule.register_daily(RENEWAL_JOB, hour=7, enqueue=enqueue_contract_renewals)
