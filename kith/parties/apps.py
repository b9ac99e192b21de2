from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    name = "kith.parties"
    label = "parties"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kith.core import schedule, search, timeline
        from kith.jobs import registry as jobs
        from kith.parties.choices import InteractionKind
        from kith.parties.imports import services as imports
        from kith.parties.models import Customer
        from kith.parties.services import duplicates, exports, quality
        from kith.parties.tasks import enqueue_anniversary_digest
        from kith.security import rules

        jobs.register(
            exports.JOB_KIND,
            _("Customer export"),
            exports.run_customer_export,
            file_permission=("customer", rules.EXPORT),
            finished_event="export.finished",
        )
        result = "parties/_import_result.html"
        jobs.register(
            imports.JOB_KIND,
            _("Customer import"),
            imports.run_import,
            result_template=result,
            finished_event="import.finished",
        )
        jobs.register(imports.UNDO_KIND, _("Undo of an import"), imports.run_undo, result_template=result)
        jobs.register(duplicates.SCAN_KIND, _("Search for duplicate customers"), duplicates.run_scan_all)
        jobs.register(quality.BULK_KIND, _("Data-quality bulk action"), quality.run_bulk)
        rules.register_object_type(
            "customer",
            _("customers"),
            model="parties.Customer",
            description=_("Persons and companies with their contact points, classification and roles."),
        )
        rules.register_object_type(
            "interaction",
            _("interactions"),
            actions=(rules.VIEW, rules.CREATE, rules.EDIT, rules.DELETE, rules.EXPORT, rules.IMPORT),
            description=_("Visits, calls, complaints and other records; seen with their customer."),
        )
        rules.register_object_type(
            "relationship",
            _("relationships"),
            actions=(rules.VIEW, rules.CREATE, rules.EDIT, rules.DELETE),
            description=_("Links between customers; seen with their customers."),
        )
        rules.register_object_type(
            "catalogue",
            _("catalogues"),
            actions=(rules.VIEW, rules.ADMINISTER),
            description=_("Custom fields, classification trees, tags, roles, relationship types, numbering."),
        )

        from kith.parties import sensitive

        sensitive.register()  # sensitive fields, field-rule names, access requests (kith.security.masking)

        search.register_text_index(Customer, "search_name", scope="customer.name")
        search.register_prefix_column(Customer, "search_pinyin")
        search.register_prefix_column(Customer, "search_initials")

        icons = {
            InteractionKind.VISIT_BY_MANAGER: "🚗",
            InteractionKind.CUSTOMER_VISIT: "🏢",
            InteractionKind.CALL: "📞",
            InteractionKind.EMAIL: "✉",
            InteractionKind.MEETING: "👥",
            InteractionKind.COMPLAINT: "⚠",
            InteractionKind.SUGGESTION: "💡",
            InteractionKind.INFO_CHANGE: "✎",
            InteractionKind.NOTE: "🗒",
        }
        for kind in InteractionKind:
            timeline.register_kind(
                f"parties.{kind.value}", kind.label, icon=icons.get(kind, "•"), group="parties"
            )
        schedule.register_daily("parties.anniversary_digest", hour=7, enqueue=enqueue_anniversary_digest)
