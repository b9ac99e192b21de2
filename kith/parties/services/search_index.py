"""Keeping the customer search index (full-text table, name vocabulary) in step with writes.

Single saves keep the index current by themselves (database triggers, and ``learn_names`` called by the
customer services). Bulk loaders (demo data, imports) wrap their inserts in ``bulk_loading()``: the per-row
index upkeep is paused and the index is rebuilt once at the end, which is many times faster.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kith.core import search
from kith.parties.models import Customer


def customer_name_index() -> search.TextIndex:
    return search.text_index(Customer, "search_name")


def learn_names(*search_names: str) -> None:
    """Add the words of saved customer names to the vocabulary typo correction uses."""
    search.add_words(customer_name_index(), search_names)


@contextmanager
def bulk_loading() -> Iterator[None]:
    """Pause per-row search-index upkeep for a bulk load; rebuild the index once afterwards."""
    with search.bulk_loading(customer_name_index()):
        yield
