from __future__ import annotations

import pytest

from kith.audit.models import AuditEntry


@pytest.fixture
def entries(db):  # type: ignore[no-untyped-def]
    """Entries written after the fixture was created, oldest first."""
    start = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def new(**filters):  # type: ignore[no-untyped-def]
        return list(AuditEntry.objects.filter(seq__gt=start, **filters).order_by("seq"))

    return new
