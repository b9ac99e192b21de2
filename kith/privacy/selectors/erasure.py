"""Whether and how a customer (or a person known only as a lead) was erased."""

from __future__ import annotations

from typing import Any

from kith.privacy.models import ErasureRecord


def erasure_of(customer: Any) -> ErasureRecord | None:
    return ErasureRecord.objects.filter(customer_id=getattr(customer, "pk", customer)).first()


def is_erased(customer: Any) -> bool:
    return ErasureRecord.objects.filter(customer_id=getattr(customer, "pk", customer)).exists()


def erasure_of_lead(lead: Any) -> ErasureRecord | None:
    return ErasureRecord.objects.filter(lead_id=getattr(lead, "pk", lead)).first()
