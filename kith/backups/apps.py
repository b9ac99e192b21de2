from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "kith.backups"
    label = "backups"
    verbose_name = _("Backups")

    def ready(self) -> None:
        from django.conf import settings

        from kith.backups.tasks import enqueue_daily_backup
        from kith.core import schedule
        from kith.security.rules import ADMINISTER, register_object_type

        register_object_type(
            "backup",
            _("backups"),
            actions=(ADMINISTER,),
            description=_("Make backups, see them and their verification."),
        )
        if settings.KITH_BACKUP_SCHEDULE:
            schedule.register_daily(
                "backups.daily", hour=settings.KITH_BACKUP_HOUR, enqueue=enqueue_daily_backup
            )
