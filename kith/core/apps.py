from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kith.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kith.core import db  # noqa: F401  (connection set-up signals)
        from kith.core.search import ensure_indexes

        post_migrate.connect(ensure_indexes, sender=self, dispatch_uid="kith.core.search.ensure_indexes")
