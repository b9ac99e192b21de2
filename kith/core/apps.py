from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kith.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kith.core import db  # noqa: F401  (connection set-up signals)
        from kith.core.schedule import register_daily
        from kith.core.search import ensure_indexes
        from kith.core.tasks import enqueue_refresh_search_statistics

        post_migrate.connect(ensure_indexes, sender=self, dispatch_uid="kith.core.search.ensure_indexes")
        register_daily("core.search_statistics", hour=3, enqueue=enqueue_refresh_search_statistics)
