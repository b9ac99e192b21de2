from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "kith.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kith.audit import capture, registry
        from kith.core import schedule
        from kith.security.rules import ADMINISTER, register_object_type
        from kith.webhooks import catalogue, events
        from kith.webhooks.models import Webhook
        from kith.webhooks.services import delivery
        from kith.webhooks.tasks import enqueue_purge

        register_object_type(
            "webhook",
            _("webhooks"),
            actions=(ADMINISTER,),
            description=_("Send signed events about changes to other systems' URLs."),
        )
        # the secrets are recorded only as "(changed)"; delivery bookkeeping on the webhook is not a change
        registry.audit_model(
            "webhooks.Webhook",
            sensitive=("secret", "previous_secret"),
            exclude=("consecutive_failures", "last_delivery_at", "last_delivery_status"),
        )
        registry.exempt(
            "webhooks.WebhookDelivery",
            "the outbox of webhook events (what was sent where and when); the changes they tell of are audited",
        )
        catalogue.register_existing()
        events.connect()
        if events.on_audit_entry not in capture.entry_listeners:
            capture.entry_listeners.append(events.on_audit_entry)

        def forget(**kwargs: object) -> None:
            events.forget()

        post_save.connect(forget, sender=Webhook, weak=False, dispatch_uid="kith.webhooks.forget_saved")
        post_delete.connect(forget, sender=Webhook, weak=False, dispatch_uid="kith.webhooks.forget_deleted")
        schedule.register_periodic("webhooks.due", delivery.enqueue_due)
        schedule.register_daily("webhooks.purge", hour=3, enqueue=enqueue_purge)
