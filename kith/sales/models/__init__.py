from kith.sales.models.billing import Invoice, InvoiceStatus, Payment, PaymentMethod
from kith.sales.models.consumption import ConsumptionKind, ConsumptionLine, ConsumptionSource
from kith.sales.models.contracts import Contract, ContractStatus
from kith.sales.models.leads import FollowUpTask, Lead, LeadAssignmentRule, WebForm
from kith.sales.models.opportunities import Approval, CloseReason, Opportunity, Pipeline, Stage, StageChange
from kith.sales.models.orders import DocumentSequence, Order, OrderLine, OrderStatus, Shipment, ShipmentLine
from kith.sales.models.pricing import ExchangeRate, PriceList, PriceListItem
from kith.sales.models.products import Product
from kith.sales.models.quotes import Quote, QuoteLine, QuoteNumberSequence
from kith.sales.models.targets import SalesTarget

__all__ = [
    "Approval",
    "CloseReason",
    "ConsumptionKind",
    "ConsumptionLine",
    "ConsumptionSource",
    "Contract",
    "ContractStatus",
    "DocumentSequence",
    "ExchangeRate",
    "FollowUpTask",
    "Invoice",
    "InvoiceStatus",
    "Lead",
    "LeadAssignmentRule",
    "Opportunity",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Payment",
    "PaymentMethod",
    "Pipeline",
    "PriceList",
    "PriceListItem",
    "Product",
    "Quote",
    "QuoteLine",
    "QuoteNumberSequence",
    "SalesTarget",
    "Shipment",
    "ShipmentLine",
    "Stage",
    "StageChange",
    "WebForm",
]
