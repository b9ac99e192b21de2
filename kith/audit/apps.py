from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "kith.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django_tasks.signals import task_finished, task_started

        from kith.audit import capture, registry, services
        from kith.audit.context import job_finished, job_started
        from kith.audit.registrations import register_existing
        from kith.audit.tasks import enqueue_rollup_access
        from kith.core import schedule
        from kith.security import rules

        rules.register_object_type(
            "audit",
            _("audit trail"),
            actions=(rules.VIEW, rules.EXPORT),
            description=_("audit trail and access log"),
        )
        register_existing()
        schedule.register_daily("audit.access_rollup", hour=1, enqueue=enqueue_rollup_access)
        registry.listeners.append(capture.connect_deletes)
        capture.install()
        user_logged_in.connect(services.on_logged_in, dispatch_uid="kith.audit.logged_in")
        user_logged_out.connect(services.on_logged_out, dispatch_uid="kith.audit.logged_out")
        user_login_failed.connect(services.on_login_failed, dispatch_uid="kith.audit.login_failed")
        task_started.connect(job_started, dispatch_uid="kith.audit.job_started")
        task_finished.connect(job_finished, dispatch_uid="kith.audit.job_finished")
