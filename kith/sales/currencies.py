"""ISO 4217 currency codes in use and their minor units (how many decimals an amount may have)."""

from __future__ import annotations

from decimal import Decimal

# code: minor units. Active codes of ISO 4217 (funds and precious metals left out).
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED",
            "AFN",
            "ALL",
            "AMD",
            "ANG",
            "AOA",
            "ARS",
            "AUD",
            "AWG",
            "AZN",
            "BAM",
            "BBD",
            "BDT",
            "BGN",
            "BMD",
            "BND",
            "BOB",
            "BRL",
            "BSD",
            "BTN",
            "BWP",
            "BYN",
            "BZD",
            "CAD",
            "CDF",
            "CHF",
            "CNY",
            "COP",
            "CRC",
            "CUP",
            "CVE",
            "CZK",
            "DKK",
            "DOP",
            "DZD",
            "EGP",
            "ERN",
            "ETB",
            "EUR",
            "FJD",
            "FKP",
            "GBP",
            "GEL",
            "GHS",
            "GIP",
            "GMD",
            "GTQ",
            "GYD",
            "HKD",
            "HNL",
            "HTG",
            "HUF",
            "IDR",
            "ILS",
            "INR",
            "IRR",
            "JMD",
            "KES",
            "KGS",
            "KHR",
            "KPW",
            "KYD",
            "KZT",
            "LAK",
            "LBP",
            "LKR",
            "LRD",
            "LSL",
            "MAD",
            "MDL",
            "MGA",
            "MKD",
            "MMK",
            "MNT",
            "MOP",
            "MRU",
            "MUR",
            "MVR",
            "MWK",
            "MXN",
            "MYR",
            "MZN",
            "NAD",
            "NGN",
            "NIO",
            "NOK",
            "NPR",
            "NZD",
            "PAB",
            "PEN",
            "PGK",
            "PHP",
            "PKR",
            "PLN",
            "QAR",
            "RON",
            "RSD",
            "RUB",
            "SAR",
            "SBD",
            "SCR",
            "SDG",
            "SEK",
            "SGD",
            "SHP",
            "SLE",
            "SOS",
            "SRD",
            "SSP",
            "STN",
            "SVC",
            "SYP",
            "SZL",
            "THB",
            "TJS",
            "TMT",
            "TOP",
            "TRY",
            "TTD",
            "TWD",
            "TZS",
            "UAH",
            "USD",
            "UYU",
            "UZS",
            "VES",
            "WST",
            "XCD",
            "YER",
            "ZAR",
            "ZMW",
            "ZWL",
        ],
        2,
    ),
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}
CODES = frozenset(MINOR_UNITS)
# Amounts are stored with two decimals (Decimal(14, 2)): a currency with more minor units uses two.
STORED_PLACES = 2
MAX_AMOUNT = Decimal("1e12")  # 14 digits, two of them decimals


def is_known(code: str) -> bool:
    return code in MINOR_UNITS


def places(code: str) -> int:
    """The decimals an amount in ``code`` may have as stored."""
    return min(MINOR_UNITS.get(code, STORED_PLACES), STORED_PLACES)


def quantum(code: str) -> Decimal:
    return Decimal(1).scaleb(-places(code))


def default_code() -> str:
    """The currency new products and price lists start with (``KITH_DEFAULT_CURRENCY``; "" when unset or
    not an ISO 4217 code)."""
    from django.conf import settings

    code = str(getattr(settings, "KITH_DEFAULT_CURRENCY", "") or "").strip().upper()
    return code if is_known(code) else ""


def choices() -> list[tuple[str, str]]:
    return [(code, code) for code in sorted(MINOR_UNITS)]


def clean_code(value: object, field: str, errors: dict[str, list[str]]) -> str:
    """A currency code (upper-cased) or a message on ``field``."""
    from django.utils.translation import gettext as _

    code = str(value or "").strip().upper()
    if not code:
        errors.setdefault(field, []).append(_("Give the currency (a three-letter code such as EUR or CNY)."))
    elif not is_known(code):
        errors.setdefault(field, []).append(
            _("“%(code)s” is not an ISO 4217 currency code (such as EUR, USD or CNY).") % {"code": code[:10]}
        )
    return code


def clean_amount(
    value: object, field: str, errors: dict[str, list[str]], *, currency: str | None, required: bool = True
) -> Decimal | None:
    """A non-negative amount with no more decimals than ``currency`` allows, or a message on ``field``."""
    from decimal import InvalidOperation

    from django.utils.translation import gettext as _

    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.setdefault(field, []).append(_("Give an amount."))
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors.setdefault(field, []).append(_("Enter a number such as 12.50."))
        return None
    if not amount.is_finite():
        errors.setdefault(field, []).append(_("Enter a number such as 12.50."))
        return None
    if amount < 0:
        errors.setdefault(field, []).append(_("An amount cannot be negative."))
        return None
    if amount >= MAX_AMOUNT:
        errors.setdefault(field, []).append(_("This amount is too large."))
        return None
    allowed = places(currency) if currency and is_known(currency) else STORED_PLACES
    if amount != amount.quantize(Decimal(1).scaleb(-allowed)):
        errors.setdefault(field, []).append(
            _("At most %(places)d decimal places for %(currency)s.")
            % {"places": allowed, "currency": currency or ""}
            if allowed
            else _("%(currency)s amounts have no decimal places.") % {"currency": currency}
        )
        return None
    return amount.quantize(Decimal(1).scaleb(-STORED_PLACES)) + 0  # + 0: "-0" is 0
