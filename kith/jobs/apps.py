from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "kith.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        from kith.audit import registry

        registry.exempt(
            "jobs.Job",
            "progress of background work; what a job reads or writes is logged (exports in the access log, "
            "changes in the audit trail)",
        )
