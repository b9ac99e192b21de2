"""Customer records and everything hanging off them."""

from kith.parties.models.catalogues import (
    Category,
    CategoryTree,
    CustomFieldDefinition,
    PartyRole,
    RelationshipType,
    Tag,
)
from kith.parties.models.customers import Address, Customer, CustomerNumberSequence, Email, Phone
from kith.parties.models.duplicates import DuplicateCandidate, DuplicateStatus
from kith.parties.models.imports import ImportChange
from kith.parties.models.quality import DataQualityRule
from kith.parties.models.records import Interaction, Relationship, SpecialDate

__all__ = [
    "Address",
    "Category",
    "CategoryTree",
    "CustomFieldDefinition",
    "Customer",
    "CustomerNumberSequence",
    "DataQualityRule",
    "DuplicateCandidate",
    "DuplicateStatus",
    "Email",
    "ImportChange",
    "Interaction",
    "PartyRole",
    "Phone",
    "Relationship",
    "RelationshipType",
    "SpecialDate",
    "Tag",
]
