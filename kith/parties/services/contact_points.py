"""Reading phone numbers and email addresses the way people type them."""

from __future__ import annotations

import unicodedata
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def normalise_phone(raw: str, *, region: str | None = None) -> tuple[str, str]:
    """Return (E.164, national significant number) or raise a ValidationError with a readable reason."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."))
    region = (region or settings.KITH_DEFAULT_REGION or "US").upper()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("“%(value)s” is not a phone number (%(reason)s).") % {"value": text, "reason": exc._msg}
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(
            _("“%(value)s” has the wrong number of digits for a phone number in %(region)s.")
            % {"value": text, "region": phonenumbers.region_code_for_number(parsed) or region}
        )
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, str(phonenumbers.national_significant_number(parsed))


def phone_query_keys(query: str, *, region: str | None = None) -> tuple[str | None, str | None]:
    """What a search box text could mean as a phone: (E.164 if it parses, bare digits if long enough)."""
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) < 5:
        return None, None
    try:
        e164, national = normalise_phone(query, region=region)
    except ValidationError:
        e164, national = None, None
    return e164, national or digits.lstrip("0") or None


def format_phone(e164: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def normalise_email(raw: str) -> tuple[str, str]:
    """Return (address as written, case-insensitive key) or raise a ValidationError."""
    address = (raw or "").strip()
    if not address:
        raise ValidationError(_("Enter an email address."))
    validate_email(address)
    local, _sep, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}", address.casefold()


def id_number_key(raw: str) -> str:
    """An ID-document number as it is compared: letters and digits only, upper case
    (``110101 19900307 123x`` and ``11010119900307123X`` are one number)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", raw or "").upper() if ch.isalnum())


ADDRESS_PARTS = ("label", "line1", "line2", "postal_code", "city", "region", "country", "is_primary")


def contact_items(customer: Any) -> dict[str, list[dict[str, Any]]]:
    """A customer's phones, emails and addresses in the shape the customer services take (to add to them,
    or to put them back as they were)."""
    return {
        "phones": [
            {"number": p.number, "label": p.label, "extension": p.extension, "is_primary": p.is_primary}
            for p in customer.phones.all()
        ],
        "emails": [
            {"address": e.address, "label": e.label, "is_primary": e.is_primary}
            for e in customer.emails.all()
        ],
        "addresses": [{k: getattr(a, k) for k in ADDRESS_PARTS} for a in customer.addresses.all()],
    }
