"""Background entry points of webhooks (thin: the work is in ``services.delivery``)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def send_deliveries(delivery_ids: list[int]) -> int:
    """Send the deliveries a transaction wrote (queued after its commit)."""
    from kith.webhooks.services import delivery

    return delivery.send(delivery_ids)


@task()
def deliver_due_webhooks() -> int:
    """Send every delivery whose (next) attempt is due (queued by ``kith schedule`` when there are some)."""
    from kith.webhooks.services import delivery

    return delivery.deliver_due()


@task()
def purge_webhook_deliveries() -> int:
    from kith.webhooks.services import delivery

    return delivery.purge()


def enqueue_purge(day: dt.date) -> object:
    return purge_webhook_deliveries.enqueue()
