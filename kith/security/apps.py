from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "kith.security"
    label = "security"
    verbose_name = _("Security")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from kith.security.authentication import connect_signals

        connect_signals(get_user_model())
