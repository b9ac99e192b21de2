"""Exports and erasures are recorded in the audit trail; the erasure copies no identity into it."""

from __future__ import annotations

import orjson
import pytest

from kith.audit.context import audit_context
from kith.audit.models import AccessLog, AuditEntry
from kith.privacy.services.erasure import customer_erase
from kith.privacy.services.export import export_bundle

pytestmark = pytest.mark.django_db


def test_export_is_recorded(admin_user, rich_customer):
    export_bundle(actor=admin_user, customer=rich_customer)
    entry = AuditEntry.objects.filter(action="export", customer_id=rich_customer.pk).get()
    assert entry.actor_id == admin_user.pk
    assert entry.changes["export"] == "data_subject" and entry.changes["rows"]["interactions"] == 2
    assert AccessLog.objects.filter(kind="export", user=admin_user, customer_ids=[rich_customer.pk]).exists()


def test_erasure_is_recorded_without_copying_the_identity(admin_user, rich_customer):
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    with audit_context(source="web", actor=admin_user):  # what the request middleware opens
        customer_erase(
            actor=admin_user,
            customer=rich_customer,
            reason="request 17",
            confirmation=rich_customer.customer_number,
        )
    new = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq"))
    erasure = [e for e in new if e.object_type == "privacy.erasurerecord" and e.action == "create"]
    assert len(erasure) == 1 and erasure[0].customer_id == rich_customer.pk
    assert erasure[0].actor_id == admin_user.pk and "request 17" in orjson.dumps(erasure[0].changes).decode()
    written = orjson.dumps([[e.object_repr, e.changes] for e in new]).decode()
    for text in ("Quixotel", "Wilhelmina", "8613912345678", "Elm Street", "X1234567"):
        assert text not in written, text
