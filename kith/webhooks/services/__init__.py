"""Writes of the webhooks app: managing webhooks (``webhooks``), sending deliveries (``delivery``), and
where they may go (``addresses``)."""

from kith.webhooks.services.webhooks import (
    delivery_redeliver,
    webhook_create,
    webhook_delete,
    webhook_enable,
    webhook_ping,
    webhook_rotate_secret,
    webhook_update,
)

__all__ = [
    "delivery_redeliver",
    "webhook_create",
    "webhook_delete",
    "webhook_enable",
    "webhook_ping",
    "webhook_rotate_secret",
    "webhook_update",
]
