"""Whether and how a customer was erased."""

from __future__ import annotations

from typing import Any

from kith.privacy.models import ErasureRecord


def erasure_of(customer: Any) -> ErasureRecord | None:
    return ErasureRecord.objects.filter(customer_id=getattr(customer, "pk", customer)).first()


def is_erased(customer: Any) -> bool:
    return ErasureRecord.objects.filter(customer_id=getattr(customer, "pk", customer)).exists()
