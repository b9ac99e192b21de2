from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kith.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kith.sales.services.pipelines import ensure_default_pipeline

        post_migrate.connect(ensure_default_pipeline, sender=self, dispatch_uid="kith.sales.default_pipeline")
        from kith.audit import registry
        from kith.core import timeline
        from kith.sales import events
        from kith.sales.choices import CONSUMPTION, LEAD, OPPORTUNITY, PRICE_LIST, PRODUCT, QUOTE
        from kith.security.rules import (
            ADMINISTER,
            APPROVE,
            CREATE,
            DELETE,
            EDIT,
            EXPORT,
            IMPORT,
            VIEW,
            register_object_type,
        )

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
        register_object_type(
            LEAD,
            _("leads"),
            actions=(*actions, ADMINISTER),
            model="sales.Lead",
            description=_(
                "Possible customers before conversion; administer: assignment rules and web forms."
            ),
        )
        register_object_type(
            OPPORTUNITY,
            _("opportunities"),
            actions=(*actions, APPROVE, ADMINISTER),
            model="sales.Opportunity",
            description=_(
                "Deals on the pipelines; approve: decide discount and amount approvals; "
                "administer: pipelines, stages, reasons and approval limits."
            ),
        )
        register_object_type(
            QUOTE,
            _("quotes"),
            actions=actions,
            model="sales.Quote",
            description=_("Priced offers to customers, their revisions, PDFs and sending."),
        )
        register_object_type(
            CONSUMPTION,
            _("consumption"),
            actions=(VIEW, CREATE, DELETE, EXPORT, IMPORT),
            description=_(
                "What customers bought, returned or used, and its statistics; seen with their customer."
            ),
        )
        from kith.sales import timeline_visibility as seen

        timeline.register_kind("sales.quote", _("Quote"), icon="§", group="sales", visible=seen.quotes)
        timeline.register_kind(
            "sales.opportunity", _("Opportunity"), icon="◆", group="sales", visible=seen.opportunities
        )
        from kith.sales import order_types

        order_types.register()
        from kith.core import schedule
        from kith.sales.contract_tasks import enqueue_quote_expiry
        from kith.sales.services.quotes import EXPIRY_HOUR, EXPIRY_JOB

        schedule.register_daily(EXPIRY_JOB, hour=EXPIRY_HOUR, enqueue=enqueue_quote_expiry)
        # every model of the app, those that later items of sales add included
        registry.audit_app("sales")
        registry.audit_model("sales.ConsumptionLine", root="customer_id")  # listed on the customer's history
        from kith.privacy.subject_data import register_subject_data
        from kith.sales.selectors.consumption import SUBJECT_COLUMNS, subject_rows

        register_subject_data("consumption", subject_rows, columns=SUBJECT_COLUMNS)
        events.register()
        from kith.sales import sensitive

        sensitive.register()
        from kith.jobs import registry as jobs
        from kith.sales.services import exports

        for spec in exports.SPECS.values():  # one kind per list: the file's download needs its own permission
            jobs.register(
                spec.job_kind,
                spec.job_label,
                exports.run_sales_export,
                file_permission=(spec.object_type, EXPORT),
                finished_event="export.finished",
            )
