from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "kith.security"
    label = "security"
    verbose_name = _("Security")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate, post_save

        from kith.security import rules
        from kith.security.authentication import connect_signals
        from kith.security.signals import user_saved

        rules.register_object_type(
            "security",
            _("roles, teams and sharing"),
            actions=(rules.VIEW, rules.ADMINISTER),
            description=_("The organisation, roles, permissions, visibility defaults and shares."),
        )
        user_model = get_user_model()
        connect_signals(user_model)
        from kith.core.api_views import register_request_check
        from kith.security.tokens import check_scope

        register_request_check(check_scope)
        from kith.security import schema  # noqa: F401 -- registers the OpenAPI description of API tokens
        from kith.security.builtin import ensure_builtin_roles

        post_migrate.connect(ensure_builtin_roles, sender=self, dispatch_uid="kith.security.builtin_roles")
        post_save.connect(user_saved, sender=user_model, dispatch_uid="kith.security.user_saved")
        from kith.security.masking import access_request_saved
        from kith.security.models import AccessRequest

        post_save.connect(
            access_request_saved, sender=AccessRequest, dispatch_uid="kith.security.access_request_saved"
        )
        from kith.jobs import registry as jobs
        from kith.security import encryption

        for code, (label, run) in encryption.RUNNERS.items():
            jobs.register(code, label, run, result_template=encryption.RESULT_TEMPLATE)
