"""The webhooks' vocabulary: what became of a delivery, and the event every webhook gets on request."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")  # waiting for its first attempt or a retry (next_attempt_at)
    SUCCEEDED = "succeeded", _("delivered")
    FAILED = "failed", _("failed")  # a test event whose one attempt failed (test events are not retried)
    ABANDONED = "abandoned", _("given up")  # every retry failed, or the webhook was disabled meanwhile
    SKIPPED = "skipped", _("not sent")  # by sending time the owner could no longer see the record


UNFINISHED = (DeliveryStatus.PENDING,)

# The test event ("Send test event" / POST .../ping/): sent whatever the webhook subscribes to.
PING = "ping"
# Subscribe to every event type, including those that modules register later.
ALL_EVENTS = "*"
