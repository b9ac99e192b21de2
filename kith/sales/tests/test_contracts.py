"""Contracts: create/edit/delete, the document (type, size, content, stored outside the database,
downloaded only by who may see the contract), renewal reminders by email once per renewal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from kith.core.errors import ConflictError
from kith.core.models import TimelineEntry
from kith.sales.models import Contract
from kith.sales.selectors import contracts as selectors
from kith.sales.services import contracts as svc
from kith.sales.tests import order_factories as f

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def boss() -> Any:
    return f.manager()


@pytest.fixture
def rep(boss: Any) -> Any:
    return f.rep(manager=boss)


def data(customer: Any, **extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "customer": customer,
        "title": "Support 2027",
        "start_date": today.isoformat(),
        "end_date": (today + dt.timedelta(days=365)).isoformat(),
        "value": "12000.00",
        "currency": "EUR",
        "renewal_date": (today + dt.timedelta(days=10)).isoformat(),
        "notice_days": "30",
        **extra,
    }


def test_create_with_document_edit_and_delete(rep, boss, media):
    customer = f.customer(owner=rep)
    upload = SimpleUploadedFile("Signed contract.pdf", PDF, content_type="application/pdf")
    contract = svc.contract_create(actor=rep, data=data(customer), document=upload)
    assert contract.owner == rep and contract.document_name == "Signed contract.pdf"
    assert contract.document_size == len(PDF) and contract.document_type == "application/pdf"
    path = media / "contracts" / contract.document.name
    assert path.read_bytes() == PDF
    assert TimelineEntry.objects.filter(kind="sales.contract", subject_id=customer.pk).count() == 1
    svc.contract_update(actor=rep, contract=contract, data={"title": "Support 2027–2028", "value": "13000"})
    assert contract.version == 2 and str(contract.value) == "13000.00"
    with pytest.raises(ConflictError):
        svc.contract_update(actor=rep, contract=contract, data={"title": "x"}, expected_version=1)
    svc.contract_delete(actor=boss, contract=contract)
    assert not Contract.objects.exists()
    assert not TimelineEntry.objects.filter(kind="sales.contract").exists()


def test_bad_documents_and_fields_are_refused(rep, settings):
    customer = f.customer(owner=rep)
    renamed = SimpleUploadedFile("contract.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as caught:
        svc.contract_create(
            actor=rep, data=data(customer, end_date="2000-01-01", value="1.234"), document=renamed
        )
    errors = caught.value.message_dict
    assert "does not match" in errors["document"][0]
    assert "ends before it starts" in errors["end_date"][0]
    assert "decimal places" in errors["value"][0]
    with pytest.raises(ValidationError) as caught:
        svc.contract_create(actor=rep, data=data(customer), document=SimpleUploadedFile("run.exe", b"MZ"))
    assert "PDF" in caught.value.message_dict["document"][0]
    settings.KITH_CONTRACT_DOCUMENT_MAX_MB = 0.00001
    with pytest.raises(ValidationError) as caught:
        svc.contract_create(actor=rep, data=data(customer), document=SimpleUploadedFile("a.pdf", PDF))
    assert "larger than" in caught.value.message_dict["document"][0]
    assert not Contract.objects.exists()


def test_replacing_the_document_deletes_the_old_file_after_commit(
    rep, media, django_capture_on_commit_callbacks
):
    customer = f.customer(owner=rep)
    contract = svc.contract_create(actor=rep, data=data(customer), document=SimpleUploadedFile("a.pdf", PDF))
    old = media / "contracts" / contract.document.name
    with django_capture_on_commit_callbacks(execute=True):
        svc.contract_update(
            actor=rep, contract=contract, data={}, document=SimpleUploadedFile("b.txt", b"hello")
        )
    assert not old.exists()
    assert contract.document_name == "b.txt"


def test_visibility(rep, boss):
    peer = f.rep("peer", manager=boss)
    contract = svc.contract_create(actor=rep, data=data(f.customer(owner=rep)))
    assert selectors.contract_for(boss, contract.pk) == contract
    with pytest.raises(Http404):
        selectors.contract_for(peer, contract.pk)
    with pytest.raises(PermissionDenied):
        svc.contract_update(actor=peer, contract=contract, data={"title": "mine"})


def test_list_puts_renewals_due_first(rep):
    customer = f.customer(owner=rep)
    today = timezone.localdate()
    later = svc.contract_create(
        actor=rep,
        data=data(customer, title="Later", renewal_date=(today + dt.timedelta(days=90)).isoformat()),
    )
    none = svc.contract_create(actor=rep, data=data(customer, title="None", renewal_date=""))
    soon = svc.contract_create(actor=rep, data=data(customer, title="Soon"))
    assert list(selectors.contract_list(user=rep)) == [soon, later, none]
    assert list(selectors.contract_list(user=rep, renewing_within=30)) == [soon]


def test_renewal_reminders_only_for_due_contracts_and_once_per_renewal(
    rep, boss, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    customer = f.customer(owner=rep)
    due = svc.contract_create(actor=rep, data=data(customer, title="Due soon"))
    svc.contract_create(
        actor=rep, data=data(customer, title="Far", renewal_date=(today + dt.timedelta(days=200)).isoformat())
    )
    svc.contract_create(actor=rep, data=data(customer, title="Ended", status="ended"))
    svc.contract_create(actor=boss, data=data(f.customer(owner=boss), title="Boss's", owner=boss.pk))
    with django_capture_on_commit_callbacks(execute=True):
        sent = svc.send_renewal_reminders(today=today)
    assert sorted(sent) == ["boss@example.com", "rep@example.com"]
    assert len(mail.outbox) == 2
    body = next(m.body for m in mail.outbox if m.to == ["rep@example.com"])
    assert "Due soon" in body and "Far" not in body and "Ended" not in body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.send_renewal_reminders(today=today + dt.timedelta(days=1)) == []
    assert mail.outbox == []
    # a new renewal date is reminded of again
    svc.contract_update(
        actor=rep, contract=due, data={"renewal_date": (today + dt.timedelta(days=20)).isoformat()}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.send_renewal_reminders(today=today + dt.timedelta(days=1)) == ["rep@example.com"]
    assert len(mail.outbox) == 1


def test_the_daily_job_is_registered_and_runs_through_the_task(rep):
    from kith.core.schedule import daily_jobs
    from kith.sales.contract_tasks import contract_renewals

    assert "sales.contract_renewals" in [job.name for job in daily_jobs()]
    svc.contract_create(actor=rep, data=data(f.customer(owner=rep)))
    assert contract_renewals.call(timezone.localdate().isoformat()) == ["rep@example.com"]
