"""The sales events webhooks can subscribe to: products, price lists, leads, opportunities, quotes,
orders and contracts created, changed, deleted; invoices created and changed (voided, paid: they are
never deleted); payments recorded (never changed nor deleted).

They come from the audit trail (``kith.webhooks.events.on_audit``); a webhook's owner gets them when they
may view products (price lists); the body is the record as the sales API shows it (a price list with its
items) to the owner then, through the app's selectors (so a record the owner no longer sees is not sent).
Leads and opportunities are shown as the owner sees them in the API (``kith.sales.sensitive.as_seen``:
fields their field rules hide left out, a lead's phone masked without clearance), and a hidden field is left
out of the event's list of changed fields too.
An item added to or removed from a list on its own is not an event of the list yet. A payment is seen
with its invoice (a payment on account with its customer), like in the API.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kith.sales.choices import LEAD, OPPORTUNITY, PRICE_LIST, PRODUCT
from kith.sales.order_types import INVOICE
from kith.security.rules import VIEW, has_permission

PRODUCT_MODEL = "sales.product"
PRICE_LIST_MODEL = "sales.pricelist"


def _sees_products(owner: Any, ref: Any) -> bool:
    return has_permission(owner, PRODUCT, VIEW)


def _sees_price_lists(owner: Any, ref: Any) -> bool:
    return has_permission(owner, PRICE_LIST, VIEW)


def _product(owner: Any, ref: Any) -> Any:
    from kith.sales import selectors
    from kith.sales.api.serializers import ProductSerializer
    from kith.webhooks.events import Rendered

    try:
        product = selectors.product_for(owner, int(ref.subject_id))
    except (Http404, PermissionDenied):
        return None
    return Rendered(dict(ProductSerializer(product).data))


def _price_list(owner: Any, ref: Any) -> Any:
    from kith.sales import selectors
    from kith.sales.api.serializers import PriceListItemSerializer, PriceListSerializer
    from kith.webhooks.events import Rendered

    try:
        price_list = selectors.price_list_for(owner, int(ref.subject_id))
    except (Http404, PermissionDenied):
        return None
    data = dict(PriceListSerializer(price_list).data)
    data["items"] = [dict(PriceListItemSerializer(i).data) for i in selectors.items_of(owner, price_list)]
    return Rendered(data)


def _gone(owner: Any, ref: Any) -> Any:
    """A deleted record: what it was (the row is gone)."""
    from kith.webhooks.events import Rendered

    row = ref.instance
    data: dict[str, Any] = {"id": int(ref.subject_id)}
    if row is not None:
        data.update({"sku": row.sku} if hasattr(row, "sku") else {"name": row.name, "currency": row.currency})
    return Rendered(data, ())


# owned records: (event noun, audit model label, object type, selector module, selector, serializer)
OWNED = (
    ("lead", "sales.lead", "lead", "leads", "lead_for", "lead_serializers.LeadSerializer"),
    (
        "opportunity",
        "sales.opportunity",
        "opportunity",
        "opportunities",
        "opportunity_for",
        "opportunity_serializers.OpportunitySerializer",
    ),
    ("quote", "sales.quote", "quote", "quotes", "quote_for", "quote_serializers.QuoteDetailSerializer"),
    ("order", "sales.order", "order", "orders", "order_for", "order_serializers.OrderSerializer"),
    (
        "contract",
        "sales.contract",
        "contract",
        "contracts",
        "contract_for",
        "order_serializers.ContractSerializer",
    ),
    ("invoice", "sales.invoice", "invoice", "billing", "invoice_for", "order_serializers.InvoiceSerializer"),
)


def _owned_renderer(object_type: str, module: str, selector: str, serializer: str) -> Any:
    """The record as the webhook's owner may see it now (None when they may not: nothing is sent)."""

    def render(owner: Any, ref: Any) -> Any:
        import importlib

        from kith.webhooks.events import Rendered

        find = getattr(importlib.import_module(f"kith.sales.selectors.{module}"), selector)
        serializer_module, serializer_class = serializer.rsplit(".", 1)
        shape = getattr(importlib.import_module(f"kith.sales.api.{serializer_module}"), serializer_class)
        try:
            row = find(owner, int(ref.subject_id))
        except (Http404, PermissionDenied, ValueError):
            return None
        if object_type in FIELD_SECURED:
            return _as_owner_sees(owner, object_type, row, dict(shape(row).data), ref.changed)
        return Rendered(dict(shape(row).data))

    return render


# owned records with field rules (and, leads, a sensitive phone): their bodies go through the owner's view
FIELD_SECURED = (LEAD, OPPORTUNITY)


def _as_owner_sees(
    owner: Any, object_type: str, row: Any, data: dict[str, Any], changed: tuple[str, ...]
) -> Any:
    from kith.sales import sensitive
    from kith.security import masking
    from kith.webhooks.events import Rendered

    view = masking.field_view(owner, row, object_type=object_type)
    keys = sensitive.BODY_KEYS.get(object_type, {})

    def shown(name: str) -> bool:
        field = keys.get(name, name.removesuffix("_id"))
        return field not in view.hidden

    return Rendered(sensitive.as_seen(view, data), tuple(n for n in changed if shown(n)))


def _owned_visible(object_type: str) -> Any:
    def visible(owner: Any, ref: Any) -> bool:
        return has_permission(owner, object_type, VIEW)

    return visible


def _owned_gone(owner: Any, ref: Any) -> Any:
    """A deleted owned record: only its id (its content may have been someone's personal data)."""
    from kith.webhooks.events import Rendered

    return Rendered({"id": int(ref.subject_id)}, ())


def _payment(owner: Any, ref: Any) -> Any:
    """A payment as the owner may see it now: on an invoice they see, or on account of a customer they
    see (``payments_for``); None otherwise."""
    from kith.sales.api.order_serializers import PaymentSerializer
    from kith.sales.selectors.billing import payments_for
    from kith.webhooks.events import Rendered

    try:
        row = payments_for(owner).select_related("customer").filter(pk=int(ref.subject_id)).first()
    except (PermissionDenied, ValueError):
        return None
    return Rendered(dict(PaymentSerializer(row).data)) if row is not None else None


def register() -> None:
    from kith.audit.choices import Action
    from kith.webhooks import events

    labels = {
        "product.created": _("Product created"),
        "product.updated": _("Product changed"),
        "product.deleted": _("Product deleted"),
        "price_list.created": _("Price list created"),
        "price_list.updated": _("Price list changed"),
        "price_list.deleted": _("Price list deleted"),
    }
    for code, model, visible, render in (
        ("product", PRODUCT_MODEL, _sees_products, _product),
        ("price_list", PRICE_LIST_MODEL, _sees_price_lists, _price_list),
    ):
        updates = (f"{code}.created", f"{code}.updated")
        events.register_type(f"{code}.created", labels[f"{code}.created"], render=render, visible=visible)
        events.register_type(
            f"{code}.updated", labels[f"{code}.updated"], render=render, visible=visible, folds_into=updates
        )
        events.register_type(
            f"{code}.deleted",
            labels[f"{code}.deleted"],
            render=_gone,
            visible=visible,
            snapshot=True,
            absorbs=updates,
        )
        events.on_audit(model, Action.CREATE, f"{code}.created")
        events.on_audit(model, (Action.UPDATE, Action.RESTORE), f"{code}.updated")
        events.on_audit(model, Action.DELETE, f"{code}.deleted")
    owned_labels: dict[str, tuple[Any, Any, Any]] = {
        "lead": (_("Lead created"), _("Lead changed"), _("Lead deleted")),
        "opportunity": (_("Opportunity created"), _("Opportunity changed"), _("Opportunity deleted")),
        "quote": (_("Quote created"), _("Quote changed"), _("Quote deleted")),
        "order": (_("Order created"), _("Order changed"), _("Order deleted")),
        "contract": (_("Contract created"), _("Contract changed"), _("Contract deleted")),
        "invoice": (_("Invoice issued"), _("Invoice changed"), None),  # never deleted: voided
    }
    for code, model, object_type, module, selector, serializer in OWNED:
        created, updated, deleted = owned_labels[code]
        render = _owned_renderer(object_type, module, selector, serializer)
        visible = _owned_visible(object_type)
        updates = (f"{code}.created", f"{code}.updated")
        events.register_type(f"{code}.created", created, render=render, visible=visible)
        events.register_type(f"{code}.updated", updated, render=render, visible=visible, folds_into=updates)
        events.on_audit(model, Action.CREATE, f"{code}.created")
        events.on_audit(model, (Action.UPDATE, Action.RESTORE), f"{code}.updated")
        if deleted is not None:
            events.register_type(
                f"{code}.deleted",
                deleted,
                render=_owned_gone,
                visible=visible,
                snapshot=True,
                absorbs=updates,
            )
            events.on_audit(model, Action.DELETE, f"{code}.deleted")
    # a payment is recorded once (no service changes or deletes one); it is seen with its invoice
    events.register_type(
        "payment.created", _("Payment recorded"), render=_payment, visible=_owned_visible(INVOICE)
    )
    events.on_audit("sales.payment", Action.CREATE, "payment.created")
