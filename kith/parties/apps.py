from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    name = "kith.parties"
    label = "parties"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kith.core import schedule, search, timeline
        from kith.parties.choices import InteractionKind
        from kith.parties.models import Customer
        from kith.parties.tasks import enqueue_anniversary_digest

        search.register_text_index(Customer, "search_name", scope="customer.name")
        search.register_prefix_column(Customer, "search_pinyin")
        search.register_prefix_column(Customer, "search_initials")

        icons = {
            InteractionKind.VISIT_BY_MANAGER: "🚗",
            InteractionKind.CUSTOMER_VISIT: "🏢",
            InteractionKind.CALL: "📞",
            InteractionKind.EMAIL: "✉",
            InteractionKind.MEETING: "👥",
            InteractionKind.COMPLAINT: "⚠",
            InteractionKind.SUGGESTION: "💡",
            InteractionKind.INFO_CHANGE: "✎",
            InteractionKind.NOTE: "🗒",
        }
        for kind in InteractionKind:
            timeline.register_kind(
                f"parties.{kind.value}", kind.label, icon=icons.get(kind, "•"), group="parties"
            )
        schedule.register_daily("parties.anniversary_digest", hour=7, enqueue=enqueue_anniversary_digest)
