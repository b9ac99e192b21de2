"""Writes of the parties domain. Every entry point (web, API, import, jobs, demo) calls these."""

from kith.parties.services.customers import (
    NewCustomer,
    PreparedCustomer,
    customer_create,
    customer_delete,
    customer_has_business_records,
    customer_prepare,
    customer_set_status,
    customer_update,
    customers_create,
)
from kith.parties.services.interactions import interaction_create, interaction_delete, interaction_update
from kith.parties.services.relationships import relationship_add, relationship_remove
from kith.parties.services.special_dates import special_date_add, special_date_remove

__all__ = [
    "NewCustomer",
    "PreparedCustomer",
    "customer_create",
    "customer_delete",
    "customer_has_business_records",
    "customer_prepare",
    "customer_set_status",
    "customer_update",
    "customers_create",
    "interaction_create",
    "interaction_delete",
    "interaction_update",
    "relationship_add",
    "relationship_remove",
    "special_date_add",
    "special_date_remove",
]
