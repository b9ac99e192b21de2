"""Background entry points of the core machinery."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from kith.core import search


@task()
def refresh_search_statistics() -> None:
    """Nightly: refresh the query planner's statistics so search and list plans follow the data's growth."""
    search.refresh_statistics()


def enqueue_refresh_search_statistics(day: dt.date) -> object:
    return refresh_search_statistics.enqueue()
