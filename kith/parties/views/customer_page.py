"""The customer page and its htmx actions: timeline, log a visit, relationships, special dates, status."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kith.audit.choices import AccessKind
from kith.audit.services import log_access
from kith.core import timeline
from kith.core.errors import ConflictError, DomainError
from kith.core.forms import apply_service_errors
from kith.parties import services
from kith.parties.choices import CustomerStatus, CustomFieldType, SpecialDateKind
from kith.parties.forms import (
    InteractionForm,
    RelationshipForm,
    SpecialDateForm,
    StatusForm,
)
from kith.parties.models import Customer, Interaction
from kith.parties.selectors import catalogues
from kith.parties.selectors.customers import can_change, customer_by_number, customer_page, relationships_of
from kith.parties.selectors.records import special_dates_of
from kith.parties.selectors.search import CustomerFilters, customer_search
from kith.parties.services.custom_fields import definitions_for
from kith.parties.services.interactions import timeline_kind
from kith.parties.views import is_htmx
from kith.security.access_requests import note_sensitive_view
from kith.security.masking import FieldView, field_view, mask_items, masked_record

TIMELINE_PAGE = 20


def _entry_view(
    *, kind: str, occurred_at: Any, title: str, summary: str, actor: Any, is_new: bool = False
) -> dict[str, Any]:
    registered = {k.key: k for k in timeline.kinds()}.get(kind)
    return {
        "kind": kind,
        "icon": registered.icon if registered else "•",
        "label": str(registered.label) if registered else kind,
        "occurred_at": occurred_at,
        "title": title,
        "summary": summary,
        "actor": str(actor) if actor else "",
        "is_new": is_new,
    }


def _timeline(customer: Customer, *, user: Any, kind: str, cursor: str | None) -> dict[str, Any]:
    page = timeline.entries_for(
        customer, user=user, kinds=[kind] if kind else None, cursor=cursor, limit=TIMELINE_PAGE
    )
    entries = [
        _entry_view(kind=e.kind, occurred_at=e.occurred_at, title=e.title, summary=e.summary, actor=e.actor)
        for e in page.entries
    ]
    return {"entries": entries, "next_cursor": page.next_cursor, "timeline_kind": kind}


def _custom_values(customer: Customer, view: FieldView) -> list[dict[str, Any]]:
    values = customer.custom_data or {}
    shown: list[dict[str, Any]] = []
    for definition in definitions_for(customer.kind, include_retired=True):
        value = values.get(definition.key)
        name = f"custom.{definition.key}"
        if (value is None and not definition.is_active) or not view.shows(name):
            continue
        masked = view.is_masked(name) and value not in (None, "")
        if masked:
            value = view.display(name, value)
        elif definition.field_type == CustomFieldType.BOOLEAN and value is not None:
            value = _("Yes") if value else _("No")
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        shown.append(
            {
                "label": definition.label,
                "value": "" if value is None else value,
                "retired": not definition.is_active,
                "is_url": definition.field_type == CustomFieldType.URL and not masked,
                "masked": masked,
            }
        )
    return shown


def _special_dates(customer: Customer, view: FieldView) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows: list[dict[str, Any]] = []
    for item in special_dates_of(customer, today=today):
        special, year, years, masked = item.special_date, item.year, item.years_at_next, False
        if special.kind == SpecialDateKind.BIRTHDAY:
            if not view.shows("birth_date"):
                continue
            if view.is_masked("birth_date") and year:
                year, years, masked = None, None, True  # the birthday stays, the year (the age) is masked
        rows.append(
            {
                "row": special,
                "year": year,
                "masked": masked,
                "next": item.next_occurrence,
                "in_days": (item.next_occurrence - today).days,
                "years": years,
            }
        )
    return rows


def _relationship_context(
    customer: Customer, form: RelationshipForm | None = None, picked: dict[str, Any] | None = None
) -> dict[str, Any]:
    types = list(catalogues.relationship_types())
    return {
        "customer": customer,
        "relationships": relationships_of(customer),
        "relationship_form": form or RelationshipForm(types=types, kind=customer.kind),
        "picked": picked,
    }


def _dates_context(customer: Customer, user: Any, form: SpecialDateForm | None = None) -> dict[str, Any]:
    return {
        "customer": customer,
        "special_dates": _special_dates(customer, field_view(user, customer)),
        "date_form": form or SpecialDateForm(),
    }


def _page(request: HttpRequest, customer: Customer, *, status: int = 200, **forms: Any) -> HttpResponse:
    kind = request.GET.get("kind", "")
    view = field_view(request.user, customer)
    context: dict[str, Any] = {
        "custom_values": _custom_values(customer, view),
        "timeline_kinds": timeline.kinds(),
        "visit_form": forms.get("visit_form") or InteractionForm(),
        "status_form": StatusForm(initial={"version": customer.version}),
        "categories": sorted(customer.categories.all(), key=lambda c: (c.tree.name, c.path)),
        # Without JavaScript, "load more" reloads this page from the cursor.
        **_timeline(customer, user=request.user, kind=kind, cursor=request.GET.get("cursor") or None),
        **_relationship_context(customer, forms.get("relationship_form"), forms.get("picked")),
        **_dates_context(customer, request.user, forms.get("date_form")),
        "may_change": can_change(request.user, customer),
        # what the user sees of the record: hidden fields emptied, sensitive ones masked
        "customer": masked_record(view, customer),
        "phones": mask_items(view, "phones", customer.phones.all()),
        "emails": mask_items(view, "emails", customer.emails.all()),
        "addresses": mask_items(view, "addresses", customer.addresses.all()),
        "fv": view,
    }
    return render(request, "parties/customer_detail.html", context, status=status)


@login_required
@require_GET
def customer_detail(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_page(user=request.user, customer_number=number)
    if customer.customer_number != number:  # merged: its address leads to the customer it went into
        if customer.customer_number.upper() != number.upper():
            messages.info(
                request,
                _("%(old)s was merged into %(new)s.") % {"old": number, "new": customer.customer_number},
            )
        return redirect("parties:customer_detail", number=customer.customer_number)
    log_access(request.user, AccessKind.VIEW, customer_ids=[customer.pk])
    note_sensitive_view(request.user, customer, field_view(request.user, customer), channel="web")
    return _page(request, customer)


@login_required
@require_GET
def customer_timeline(request: HttpRequest, number: str) -> HttpResponse:
    """A page of timeline entries (the kind filter and "load more")."""
    customer = customer_by_number(user=request.user, customer_number=number)
    context = {
        "customer": customer,
        **_timeline(
            customer,
            user=request.user,
            kind=request.GET.get("kind", ""),
            cursor=request.GET.get("cursor") or None,
        ),
    }
    template = "parties/_timeline_page.html" if request.GET.get("cursor") else "parties/_timeline.html"
    return render(request, template, context)


@login_required
@require_POST
def interaction_create(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_by_number(user=request.user, customer_number=number)
    form = InteractionForm(request.POST)
    interaction: Interaction | None = None
    if form.is_valid():
        try:
            interaction = services.interaction_create(
                actor=request.user, customer=customer, data=form.service_data()
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except DomainError as exc:
            form.add_error(None, exc.message)
    if interaction is None:
        if is_htmx(request):
            response = render(request, "parties/_visit_form.html", {"customer": customer, "visit_form": form})
            response["HX-Retarget"] = "#visit-form"
            response["HX-Reswap"] = "outerHTML"
            return response
        full = customer_page(user=request.user, customer_number=number)
        return _page(request, full, status=400, visit_form=form)
    if is_htmx(request):
        entry = _entry_view(
            kind=timeline_kind(interaction.kind),
            occurred_at=interaction.occurred_at,
            title=interaction.subject,
            summary=interaction.content,
            actor=interaction.actor,
            is_new=True,
        )
        return render(
            request,
            "parties/_interaction_created.html",
            {"customer": customer, "entry": entry, "visit_form": InteractionForm()},
        )
    messages.success(request, _("Recorded: %(subject)s") % {"subject": interaction.subject})
    return redirect("parties:customer_detail", number=customer.customer_number)


def _picked(request: HttpRequest, number: str) -> dict[str, Any] | None:
    """The customer chosen in the autocomplete, to show it again when the form comes back with errors."""
    if not number:
        return None
    page = customer_search(user=request.user, filters=CustomerFilters(q=number), limit=5)
    return next((r for r in page.rows if r["customer_number"] == number), None)


@login_required
@require_POST
def relationship_add(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_page(user=request.user, customer_number=number)
    form = RelationshipForm(request.POST, types=catalogues.relationship_types(), kind=customer.kind)
    if form.is_valid() and _add_relationship(request, customer, form):
        if not is_htmx(request):
            messages.success(request, _("The relationship was added."))
            return redirect("parties:customer_detail", number=customer.customer_number)
        return render(request, "parties/_relationships.html", _relationship_context(customer))
    picked = _picked(request, (request.POST.get("other") or "").strip())
    if not is_htmx(request):
        return _page(request, customer, status=400, relationship_form=form, picked=picked)
    return render(request, "parties/_relationships.html", _relationship_context(customer, form, picked))


def _add_relationship(request: HttpRequest, customer: Customer, form: RelationshipForm) -> bool:
    rel_type, this_is_from = form.cleaned_data["type"]
    try:
        other = customer_by_number(user=request.user, customer_number=form.cleaned_data["other"])
    except Http404:  # a number that is not (or no longer) visible
        form.add_error("other", _("Pick the other customer from the list."))
        return False
    this_side, other_side = (
        ("from_customer", "to_customer") if this_is_from else ("to_customer", "from_customer")
    )
    try:
        services.relationship_add(
            actor=request.user,
            type=rel_type,
            **{this_side: customer, other_side: other},
            start_date=form.cleaned_data.get("start_date"),
            end_date=form.cleaned_data.get("end_date"),
            note=form.cleaned_data.get("note") or "",
        )
    except ValidationError as exc:
        apply_service_errors(exc, form, aliases={other_side: "other", this_side: "type"})
        return False
    return True


@login_required
@require_POST
def relationship_remove(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    customer = customer_by_number(user=request.user, customer_number=number)
    match = next((v for v in relationships_of(customer) if v.relationship.pk == pk), None)
    if match is not None:
        services.relationship_remove(actor=request.user, relationship=match.relationship)
    if is_htmx(request):
        return render(request, "parties/_relationships.html", _relationship_context(customer))
    messages.success(request, _("The relationship was removed."))
    return redirect("parties:customer_detail", number=customer.customer_number)


@login_required
@require_POST
def special_date_add(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_page(user=request.user, customer_number=number)
    form = SpecialDateForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            services.special_date_add(
                actor=request.user,
                customer=customer,
                kind=form.cleaned_data["kind"],
                month=form.cleaned_data["month"],
                day=form.cleaned_data["day"],
                year=form.cleaned_data.get("year"),
                label=form.cleaned_data.get("label") or "",
            )
            saved = True
        except ValidationError as exc:
            apply_service_errors(exc, form)
    if saved:
        customer = customer_page(user=request.user, customer_number=number)
        if not is_htmx(request):
            messages.success(request, _("The date was added."))
            return redirect("parties:customer_detail", number=customer.customer_number)
        return render(request, "parties/_special_dates.html", _dates_context(customer, request.user))
    if not is_htmx(request):
        return _page(request, customer, status=400, date_form=form)
    return render(request, "parties/_special_dates.html", _dates_context(customer, request.user, form))


@login_required
@require_POST
def special_date_remove(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    customer = customer_page(user=request.user, customer_number=number)
    special = next((d for d in customer.special_dates.all() if d.pk == pk), None)
    if special is not None:
        try:
            services.special_date_remove(actor=request.user, special_date=special)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            customer = customer_page(user=request.user, customer_number=number)
    if is_htmx(request):
        return render(request, "parties/_special_dates.html", _dates_context(customer, request.user))
    return redirect("parties:customer_detail", number=customer.customer_number)


@login_required
@require_POST
def customer_status(request: HttpRequest, number: str) -> HttpResponse:
    """Archive or reactivate."""
    customer = customer_by_number(user=request.user, customer_number=number)
    form = StatusForm(request.POST)
    wanted = request.POST.get("status")
    if wanted not in (CustomerStatus.ARCHIVED, CustomerStatus.ACTIVE) or not form.is_valid():
        messages.error(request, _("The request was incomplete; reload the page and try again."))
        return redirect("parties:customer_detail", number=customer.customer_number)
    try:
        services.customer_set_status(
            actor=request.user,
            customer=customer,
            status=wanted,
            expected_version=form.cleaned_data["version"],
        )
    except ConflictError:
        messages.error(
            request,
            _(
                "Someone else changed this customer after you opened it. Here is the current record; try again."
            ),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if wanted == CustomerStatus.ARCHIVED:
            messages.success(request, _("%(name)s is archived.") % {"name": customer.display_name})
        else:
            messages.success(request, _("%(name)s is active again.") % {"name": customer.display_name})
    return redirect("parties:customer_detail", number=customer.customer_number)
