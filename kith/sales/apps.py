from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kith.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from kith.audit import registry
        from kith.sales import events
        from kith.sales.choices import PRICE_LIST, PRODUCT
        from kith.security.rules import CREATE, DELETE, EDIT, EXPORT, IMPORT, VIEW, register_object_type

        actions = (VIEW, CREATE, EDIT, DELETE, EXPORT, IMPORT)
        register_object_type(
            PRODUCT,
            _("products"),
            actions=actions,
            description=_("The products and services sold, with list price and tax rate."),
        )
        register_object_type(
            PRICE_LIST,
            _("price lists"),
            actions=actions,
            description=_("Price lists per currency and customer group, and exchange rates."),
        )
        # every model of the app, those that later items of sales add included
        registry.audit_app("sales")
        events.register()
