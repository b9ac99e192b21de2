from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kith.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.core.signals import setting_changed

        from kith.accounts import signals
        from kith.security import rules

        rules.register_object_type(
            "user",
            _("users"),
            actions=(rules.VIEW, rules.CREATE, rules.EDIT, rules.ADMINISTER),
            description=_("User accounts: create, disable, unlock, reset two-factor authentication."),
        )
        user_logged_in.connect(signals.remember_session, dispatch_uid="kith.accounts.remember_session")
        user_logged_out.connect(signals.forget_session, dispatch_uid="kith.accounts.forget_session")
        setting_changed.connect(signals.settings_changed, dispatch_uid="kith.accounts.settings_changed")
        self._register_audit()

    def _register_audit(self) -> None:
        from django.apps import apps

        if not apps.is_installed("kith.audit"):
            return
        from kith.audit import registry

        # lockouts, unlocks and required password changes are recorded; the failure counters are not
        # (each failed sign-in is recorded as a login event already)
        counters = ("failed_logins", "failed_since")
        registry.audit_model("accounts.AccountSecurity", exclude=counters)
        registry.audit_model("accounts.AddressLockout", exclude=counters)
        registry.exempt(
            "accounts.UserSession",
            "an index of session keys; sign-ins and sign-outs are recorded as login events",
        )
