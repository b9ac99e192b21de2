from kith.sales.models.leads import FollowUpTask, Lead, LeadAssignmentRule, WebForm
from kith.sales.models.opportunities import Approval, CloseReason, Opportunity, Pipeline, Stage, StageChange
from kith.sales.models.pricing import ExchangeRate, PriceList, PriceListItem
from kith.sales.models.products import Product
from kith.sales.models.quotes import Quote, QuoteLine, QuoteNumberSequence

__all__ = [
    "Approval",
    "CloseReason",
    "ExchangeRate",
    "FollowUpTask",
    "Lead",
    "LeadAssignmentRule",
    "Opportunity",
    "Pipeline",
    "PriceList",
    "PriceListItem",
    "Product",
    "Quote",
    "QuoteLine",
    "QuoteNumberSequence",
    "Stage",
    "StageChange",
    "WebForm",
]
