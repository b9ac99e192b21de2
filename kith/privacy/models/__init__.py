"""Privacy records: consents, erasures and retention rules with their review flags."""

from kith.privacy.models.consents import ConsentPurpose, ConsentRecord
from kith.privacy.models.erasure import ErasureRecord
from kith.privacy.models.retention import RetentionFlag, RetentionRule

__all__ = ["ConsentPurpose", "ConsentRecord", "ErasureRecord", "RetentionFlag", "RetentionRule"]
