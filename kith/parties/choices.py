"""Named vocabularies of the parties domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class KindScope(models.TextChoices):
    """Which kinds of customer a definition applies to."""

    ANY = "any", _("Persons and companies")
    PERSON = "person", _("Persons")
    COMPANY = "company", _("Companies")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    ARCHIVED = "archived", _("Archived")


class Gender(models.TextChoices):
    UNSPECIFIED = "", _("Not specified")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class MaritalStatus(models.TextChoices):
    UNSPECIFIED = "", _("Not specified")
    SINGLE = "single", _("Single")
    MARRIED = "married", _("Married")
    PARTNERED = "partnered", _("Civil partnership")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class CompanySize(models.TextChoices):
    UNSPECIFIED = "", _("Not specified")
    MICRO = "1-9", _("1–9 employees")
    SMALL = "10-49", _("10–49 employees")
    MEDIUM = "50-249", _("50–249 employees")
    LARGE = "250-999", _("250–999 employees")
    ENTERPRISE = "1000+", _("1,000+ employees")


class Source(models.TextChoices):
    UNSPECIFIED = "", _("Not specified")
    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone")
    WEB = "web", _("Web site")
    REFERRAL = "referral", _("Referral")
    CAMPAIGN = "campaign", _("Campaign")
    TRADE_SHOW = "trade_show", _("Trade show")
    PARTNER = "partner", _("Partner / dealer")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class PhoneLabel(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", pgettext_lazy("phone or address", "Home")
    FAX = "fax", _("Fax")
    OTHER = "other", _("Other")


class EmailLabel(models.TextChoices):
    WORK = "work", _("Work")
    PERSONAL = "personal", _("Personal")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class AddressLabel(models.TextChoices):
    OFFICE = "office", _("Office")
    HOME = "home", pgettext_lazy("phone or address", "Home")
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    OTHER = "other", _("Other")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    URL = "url", _("URL")
    EMAIL = "email", _("Email")


class InteractionKind(models.TextChoices):
    VISIT_BY_MANAGER = "visit", _("Visit by account manager")
    CUSTOMER_VISIT = "customer_visit", _("Customer visit")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    INFO_CHANGE = "info_change", _("Information change")
    NOTE = "note", _("Note")


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    VIDEO = "video", _("Video call")
    CHAT = "chat", _("Chat / messaging")
    LETTER = "letter", _("Letter")
    WEB = "web", _("Web")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    UNSPECIFIED = "", _("Not specified")
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    RESOLVED = "resolved", _("Resolved")
    PENDING = "pending", _("Pending")


class SpecialDateKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    FOUNDING = "founding", _("Founding day")
    WEDDING = "wedding", _("Wedding anniversary")
    FIRST_PURCHASE = "first_purchase", _("First purchase")
    CUSTOM = "custom", _("Other special date")


# Special dates kept in step with master data (birth date, founded date); the rest are entered by hand.
DERIVED_DATE_KINDS = (SpecialDateKind.BIRTHDAY, SpecialDateKind.FOUNDING)
