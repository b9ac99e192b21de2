"""The events of the modules that existed before webhooks (later modules register their own in ``ready``).

Customers, interactions and relationships come from the audit trail; a finished import or export from the
job's row (jobs are not audited: their effects are). Each record is rendered as the parties API shows it
to the webhook's owner (``kith.security.masking`` applied), through the parties selectors, so visibility
is decided where it always is.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from kith.audit.choices import Action
from kith.webhooks import events
from kith.webhooks.events import EventRef, Rendered

CUSTOMER = "parties.customer"
_FINISHED = ("succeeded", "failed", "cancelled")


# --- customers --------------------------------------------------------------------------------------


def sees_customer(owner: Any, customer_id: int | None) -> bool:
    from kith.parties.selectors.customers import customers_for
    from kith.security.rules import VIEW, has_permission
    from kith.security.selectors import sees_everything

    if customer_id is None:
        return False
    if has_permission(owner, "customer", VIEW) and sees_everything(owner, "customer"):
        return True  # no query: the owner sees every customer
    return customers_for(owner).filter(pk=customer_id).exists()


def _customer_visible(owner: Any, ref: EventRef) -> bool:
    return sees_customer(owner, ref.customer_id if ref.customer_id is not None else int(ref.subject_id))


def _the_customer(ref: EventRef) -> tuple[int]:
    """A customer event shows that customer's data."""
    return (int(ref.subject_id),)


def _shown_changes(view: Any, changed: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in changed if name not in view.hidden)


def _customer(owner: Any, ref: EventRef) -> Rendered | None:
    from kith.parties.api.serializers import CustomerDetailSerializer
    from kith.parties.selectors.customers import customers_for
    from kith.security import masking

    customer = (
        customers_for(owner)
        .select_related("owner")
        .prefetch_related("phones", "emails", "addresses", "tags", "roles", "categories__tree")
        .filter(pk=int(ref.subject_id))
        .first()
    )
    if customer is None:
        return None
    view = masking.field_view(owner, customer)
    data = masking.apply_to_dict(view, dict(CustomerDetailSerializer(customer).data))
    data["masked_fields"] = sorted(view.masked)
    return Rendered(data, _shown_changes(view, ref.changed))


def _customer_gone(owner: Any, ref: EventRef) -> Rendered | None:
    """A deleted customer: who it was (the row and its contact points are gone)."""
    from kith.security import masking

    customer = ref.instance
    if customer is None:
        return Rendered({"id": int(ref.subject_id)})
    data = {
        "id": customer.pk if customer.pk is not None else int(ref.subject_id),
        "customer_number": customer.customer_number,
        "kind": customer.kind,
        "display_name": customer.display_name,
    }
    view = masking.field_view(owner, {"id": data["id"], "kind": customer.kind})
    return Rendered(masking.apply_to_dict(view, data), ())


# --- interactions -----------------------------------------------------------------------------------


def _interaction(owner: Any, ref: EventRef) -> Rendered | None:
    from kith.parties.api.serializers import InteractionSerializer
    from kith.parties.selectors.records import interactions_for

    row = interactions_for(owner).select_related("customer", "actor").filter(pk=int(ref.subject_id)).first()
    return Rendered(dict(InteractionSerializer(row).data)) if row is not None else None


def _interaction_customer(ref: EventRef) -> list[int]:
    """An interaction's body shows its customer's number and name, and what was said."""
    from kith.parties.models import Interaction

    return list(Interaction.objects.filter(pk=int(ref.subject_id)).values_list("customer_id", flat=True))


def _interaction_gone(owner: Any, ref: EventRef) -> Rendered | None:
    row = ref.instance
    if row is None:
        return Rendered({"id": int(ref.subject_id)})
    return Rendered(
        {"id": row.pk or int(ref.subject_id), "customer_id": row.customer_id, "kind": row.kind}, ()
    )


# --- relationships ----------------------------------------------------------------------------------


def _relationship_visible(owner: Any, ref: EventRef) -> bool:
    row = ref.instance
    if row is None:
        return sees_customer(owner, ref.customer_id)
    return sees_customer(owner, row.from_customer_id) and sees_customer(owner, row.to_customer_id)


def _relationship(owner: Any, ref: EventRef) -> Rendered | None:
    from kith.parties.api.serializers import RelationshipSerializer
    from kith.parties.selectors.records import relationships_for

    row = (
        relationships_for(owner)
        .select_related("type", "from_customer", "to_customer")
        .filter(pk=int(ref.subject_id))
        .first()
    )
    return Rendered(dict(RelationshipSerializer(row).data)) if row is not None else None


def _relationship_customers(ref: EventRef) -> list[int]:
    """A relationship's body shows both customers' numbers and names."""
    from kith.parties.models import Relationship

    rows = Relationship.objects.filter(pk=int(ref.subject_id)).values_list(
        "from_customer_id", "to_customer_id"
    )
    return [pk for pair in rows for pk in pair]


def _relationship_gone(owner: Any, ref: EventRef) -> Rendered | None:
    row = ref.instance
    if row is None:
        return Rendered({"id": int(ref.subject_id)})
    return Rendered(
        {
            "id": row.pk or int(ref.subject_id),
            "type_id": row.type_id,
            "from_customer_id": row.from_customer_id,
            "to_customer_id": row.to_customer_id,
        },
        (),
    )


# --- jobs (imports, exports) ------------------------------------------------------------------------


def _job_visible(owner: Any, ref: EventRef) -> bool:
    from kith.jobs.selectors import job_for

    return job_for(owner, int(ref.subject_id)) is not None


def _job(owner: Any, ref: EventRef) -> Rendered | None:
    from kith.jobs.api.serializers import JobSerializer
    from kith.jobs.selectors import job_for

    job = job_for(owner, int(ref.subject_id))
    return Rendered(dict(JobSerializer(job).data), ()) if job is not None else None


def _job_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if created or instance.status not in _FINISHED or (update_fields and "status" not in update_fields):
        return
    from kith.jobs.registry import finished_event

    event = finished_event(instance.kind)
    if event:
        events.publish(
            event,
            subject_type="jobs.job",
            subject_id=instance.pk,
            instance=instance,
            using=kwargs.get("using") or "default",
        )


def register_existing() -> None:
    updates = ("customer.created", "customer.updated")
    events.register_type(
        "customer.created",
        _("Customer created"),
        render=_customer,
        visible=_customer_visible,
        discloses=_the_customer,
    )
    events.register_type(
        "customer.updated",
        _("Customer changed"),
        render=_customer,
        visible=_customer_visible,
        folds_into=updates,
        discloses=_the_customer,
    )
    events.register_type(
        "customer.deleted",
        _("Customer deleted"),
        render=_customer_gone,
        visible=_customer_visible,
        snapshot=True,
        absorbs=updates,
        discloses=_the_customer,
    )
    events.register_type(
        "customer.merged",
        _("Customers merged"),
        render=_customer,
        visible=_customer_visible,
        discloses=_the_customer,
    )
    events.on_audit(CUSTOMER, Action.CREATE, "customer.created")
    events.on_audit(CUSTOMER, (Action.UPDATE, Action.RESTORE), "customer.updated")
    events.on_audit(CUSTOMER, Action.DELETE, "customer.deleted")
    events.on_audit(
        CUSTOMER,
        Action.MERGE,
        "customer.merged",
        changed_from=lambda details: details.get("taken_from_merged") or (),
        details_from=lambda details: {"merged_customer_number": details.get("merged", "")},
    )
    # contact points and dates are part of the customer: their changes are the customer's
    for model, name in (
        ("parties.phone", "phones"),
        ("parties.email", "emails"),
        ("parties.address", "addresses"),
        ("parties.specialdate", "special_dates"),
    ):
        events.on_audit(
            model,
            (Action.CREATE, Action.UPDATE, Action.DELETE),
            "customer.updated",
            subject="customer",
            changed=name,
        )

    interaction_updates = ("interaction.created", "interaction.updated")
    events.register_type(
        "interaction.created",
        _("Interaction recorded"),
        render=_interaction,
        visible=_customer_visible,
        discloses=_interaction_customer,
    )
    events.register_type(
        "interaction.updated",
        _("Interaction changed"),
        render=_interaction,
        visible=_customer_visible,
        folds_into=interaction_updates,
        discloses=_interaction_customer,
    )
    events.register_type(
        "interaction.deleted",
        _("Interaction deleted"),
        render=_interaction_gone,
        visible=_customer_visible,
        snapshot=True,
        absorbs=interaction_updates,
    )
    events.on_audit("parties.interaction", Action.CREATE, "interaction.created")
    events.on_audit("parties.interaction", Action.UPDATE, "interaction.updated")
    events.on_audit("parties.interaction", Action.DELETE, "interaction.deleted")

    relationship_updates = ("relationship.created", "relationship.updated")
    events.register_type(
        "relationship.created",
        _("Relationship added"),
        render=_relationship,
        visible=_relationship_visible,
        discloses=_relationship_customers,
    )
    events.register_type(
        "relationship.updated",
        _("Relationship changed"),
        render=_relationship,
        visible=_relationship_visible,
        folds_into=relationship_updates,
        discloses=_relationship_customers,
    )
    events.register_type(
        "relationship.deleted",
        _("Relationship removed"),
        render=_relationship_gone,
        visible=_relationship_visible,
        snapshot=True,
        absorbs=relationship_updates,
    )
    events.on_audit("parties.relationship", Action.CREATE, "relationship.created")
    events.on_audit("parties.relationship", Action.UPDATE, "relationship.updated")
    events.on_audit("parties.relationship", Action.DELETE, "relationship.deleted")

    events.register_type("import.finished", _("Import finished"), render=_job, visible=_job_visible)
    events.register_type("export.finished", _("Export finished"), render=_job, visible=_job_visible)
    post_save.connect(_job_saved, sender="jobs.Job", dispatch_uid="kith.webhooks.job_saved")
