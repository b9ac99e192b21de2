"""Reads of privacy tooling. ``may_contact`` and ``contactable_q`` are what other modules (marketing) call."""

from kith.privacy.selectors.consents import (
    consent_history,
    contactable_q,
    current_consent,
    current_consents,
    may_contact,
    purposes,
)
from kith.privacy.selectors.erasure import erasure_of, erasure_of_lead, is_erased

__all__ = [
    "consent_history",
    "contactable_q",
    "current_consent",
    "current_consents",
    "erasure_of",
    "erasure_of_lead",
    "is_erased",
    "may_contact",
    "purposes",
]
