"""The sales vocabulary: object types of the permission matrix, where a price came from, error codes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

PRODUCT = "product"
PRICE_LIST = "price_list"  # also covers exchange rates


class PriceSource(models.TextChoices):
    PRICE_LIST = "price_list", _("price list")
    LIST_PRICE = "list_price", _("list price")


# error codes (DomainError.code)
NO_EXCHANGE_RATE = "no_exchange_rate"

LEAD = "lead"  # administer: assignment rules and web-to-lead forms
OPPORTUNITY = "opportunity"  # approve: decide approvals; administer: pipelines, stages, reasons, limits


class LeadStatus(models.TextChoices):
    NEW = "new", _("new")
    CONTACTED = "contacted", _("contacted")
    QUALIFIED = "qualified", _("qualified")
    UNQUALIFIED = "unqualified", _("not qualified")
    CONVERTED = "converted", _("converted")


class LeadSource(models.TextChoices):
    MANUAL = "manual", _("entered by hand")
    WEB_FORM = "web_form", _("web form")
    API = "api", _("API")
    IMPORT = "import", _("import")
    REFERRAL = "referral", _("referral")
    EVENT = "event", _("event")
    PHONE = "phone", _("phone call")
    OTHER = "other", _("other")


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("in turn (round robin)")
    FIRST = "first", _("always the first user")


class StageKind(models.TextChoices):
    OPEN = "open", _("open")
    WON = "won", _("won")
    LOST = "lost", _("lost")


OpportunityStatus = StageKind


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")
    SUPERSEDED = "superseded", _("no longer valid")


QUOTE = "quote"
CONSUMPTION = "consumption"  # consumption lines and their statistics (seen with their customer)


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    SUPERSEDED = "superseded", _("superseded (a newer revision or another accepted quote)")
    EXPIRED = "expired", _("expired")


# error codes (DomainError.code)
APPROVAL_REQUIRED = "approval_required"
LEAD_ALREADY_CONVERTED = "lead_converted"
