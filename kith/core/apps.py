from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kith.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from kith.core import db  # noqa: F401  (connection set-up signals)
