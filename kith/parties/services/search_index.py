"""Keeping the customer search index (full-text table, name vocabulary) in step with writes.

Single saves keep the index current by themselves (database triggers, and ``learn_names`` called by the
customer services). Bulk loaders (demo data, imports) wrap their inserts in ``bulk_loading()``: the per-row
index upkeep is paused and the index is rebuilt once at the end, which is many times faster.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kith.core import search
from kith.core.models import TimelineEntry
from kith.parties.models import (
    Address,
    Customer,
    Email,
    Interaction,
    Phone,
    Relationship,
    SpecialDate,
)


def customer_name_index() -> search.TextIndex:
    return search.text_index(Customer, "search_name")


def learn_names(*search_names: str) -> None:
    """Add the words of saved customer names to the vocabulary typo correction uses."""
    search.add_words(customer_name_index(), search_names)


def customer_tables() -> list[str]:
    """The tables a customer bulk load fills: customers, their contact points, records and timeline."""
    tables = [
        m._meta.db_table
        for m in (Customer, Phone, Email, Address, SpecialDate, Relationship, Interaction, TimelineEntry)
    ]
    for name in ("categories", "tags", "roles"):
        through = Customer._meta.get_field(name).remote_field.through  # type: ignore[union-attr]
        tables.append(through._meta.db_table)
    return tables


@contextmanager
def bulk_loading(*, drop_indexes: bool = False) -> Iterator[None]:
    """Pause per-row search-index upkeep for a bulk load; rebuild the index once afterwards.

    ``drop_indexes``: also drop the secondary indexes of the customer tables for the load and build them
    again at the end (for loads that add many customers, e.g. 50,000 or more).
    """
    with search.bulk_loading(customer_name_index(), tables=customer_tables(), drop_indexes=drop_indexes):
        yield
