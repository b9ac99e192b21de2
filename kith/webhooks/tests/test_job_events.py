"""A finished import or export is an event written in the transaction that marks the job finished."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import transaction

from kith.jobs import services as jobs
from kith.jobs.models import Job, JobStatus
from kith.parties.services.exports import start_customer_export
from kith.parties.tests.factories import company
from kith.webhooks import services
from kith.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(admin_user: Any, receiver: Any, settings: Any, tmp_path: Any) -> Job:
    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    services.webhook_create(
        actor=admin_user, data={"name": "ERP", "url": receiver.url, "event_types": ["export.finished"]}
    )
    company(admin_user, legal_name="Exported Ltd")
    return start_customer_export(actor=admin_user, filters={}, file_format="csv", enqueue=False)


def test_a_finished_export_is_exactly_one_event(export):
    jobs.run(export.pk)
    export.refresh_from_db()
    assert export.status == JobStatus.SUCCEEDED
    (row,) = WebhookDelivery.objects.all()
    assert (row.event_type, row.subject_type, row.subject_id) == (
        "export.finished",
        "jobs.job",
        str(export.pk),
    )


def test_a_finish_that_is_rolled_back_leaves_no_event(export):
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.run(export.pk)
        assert WebhookDelivery.objects.count() == 1  # written with the status change ...
        raise RuntimeError("the worker's transaction failed")
    assert not WebhookDelivery.objects.exists()  # ... and gone with it
    export.refresh_from_db()
    assert export.status == JobStatus.QUEUED


def test_the_status_change_and_its_event_are_one_transaction(export):
    # the event cannot be written: the job is not marked finished either (the next attempt finishes it)
    with (
        mock.patch("kith.jobs.selectors.job_for", side_effect=RuntimeError("connection lost")),
        pytest.raises(RuntimeError),
    ):
        jobs.run(export.pk)
    export.refresh_from_db()
    assert export.status == JobStatus.RUNNING and export.finished_at is None
    assert not WebhookDelivery.objects.exists()


def test_a_finished_sales_export_is_an_export_finished_event(admin_user, receiver, settings, tmp_path):
    """Every domain's export plugs in through its job kind (``finished_event``), not a list here."""
    from kith.sales.services.exports import start_sales_export

    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    services.webhook_create(
        actor=admin_user, data={"name": "ERP", "url": receiver.url, "event_types": ["export.finished"]}
    )
    job = start_sales_export(actor=admin_user, export_type="product", file_format="csv", enqueue=False)
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    (row,) = WebhookDelivery.objects.all()
    assert (row.event_type, row.subject_id) == ("export.finished", str(job.pk))
