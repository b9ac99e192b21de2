from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "kith.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from kith.audit import registry as audit
        from kith.core import schedule, timeline
        from kith.privacy import subject_data
        from kith.privacy.tasks import enqueue_retention_review
        from kith.security import rules

        rules.register_object_type(
            "privacy",
            _("Privacy (consents, data-subject exports, erasure, retention)"),
            actions=(rules.VIEW, rules.EDIT, rules.EXPORT, rules.ADMINISTER),
            description=_(
                "view: see consents; edit: record consents; export: download everything about a customer; "
                "administer: purposes, retention rules and erasure"
            ),
        )
        audit.audit_app("privacy")  # purposes, retention rules
        audit.audit_model("privacy.ConsentRecord", root="customer_id")
        audit.audit_model("privacy.ErasureRecord", root="customer_id")
        audit.exempt(
            "privacy.RetentionFlag",
            "review work list derived nightly from retention rules (audited) and customer activity; "
            "erasures from it are recorded as ErasureRecord (audited)",
        )
        timeline.register_kind("privacy.erasure", _("Personal data erased"), icon="⌫", group="privacy")
        subject_data.register_builtin_sections()
        subject_data.register_sales_sections()
        from kith.parties.services.access import register_write_guard
        from kith.privacy.services.erasure import refuse_changes_to_erased

        register_write_guard(refuse_changes_to_erased)
        schedule.register_daily("privacy.retention_review", hour=2, enqueue=enqueue_retention_review)
