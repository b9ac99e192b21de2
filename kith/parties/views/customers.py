"""Customer list and search, the autocomplete, and the create / edit / delete pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kith.audit.choices import AccessKind
from kith.audit.services import log_access
from kith.core.errors import ConflictError, DeleteRefused
from kith.core.forms import apply_service_errors
from kith.parties import services
from kith.parties.choices import CustomerKind, CustomerStatus, CustomFieldType
from kith.parties.forms import (
    CONTACT_FORMSETS,
    CustomerFilterForm,
    CustomerForm,
    contact_initial,
    customer_initial,
    formset_items,
)
from kith.parties.models import Customer
from kith.parties.selectors import catalogues
from kith.parties.selectors.customers import can_change, customer_by_number, customer_page
from kith.parties.selectors.search import CustomerFilters, customer_search, loggable_query
from kith.parties.services.contact_points import format_phone
from kith.parties.services.custom_fields import definitions_for
from kith.parties.views import htmx_target
from kith.security.access_requests import note_sensitive_view
from kith.security.masking import apply_to_row, check_filterable, field_view, field_views, mask_items
from kith.security.rules import has_permission, require_permission

PAGE_SIZE = 25
AUTOCOMPLETE_SIZE = 8
DEFAULT_SORT = ""


def _cf_param(name: str) -> str:
    return "cf_" + name.removeprefix("custom.")


ROW_COLUMNS = {"primary_phone": "phones", "primary_email": "emails"}


def mask_rows(user: Any, rows: list[dict[str, Any]], *, channel: str = "web") -> list[dict[str, Any]]:
    """The rows as ``user`` may see them (``kith.security.masking``); views under an access grant are
    recorded."""
    views = field_views(user, rows)
    for row in rows:
        view = views[row["id"]]
        apply_to_row(view, row, ROW_COLUMNS)
        if view.grant_id and row.get("primary_phone"):
            note_sensitive_view(user, row, view, channel=channel)
    return rows


def _decorate_rows(rows: list[dict[str, Any]], owners: dict[int, str]) -> list[dict[str, Any]]:
    kinds = dict(CustomerKind.choices)
    statuses = dict(CustomerStatus.choices)
    for row in rows:
        row["owner_name"] = owners.get(row.get("owner_id") or 0, "")
        if row.get("primary_phone_masked"):
            row["phone_display"] = row["primary_phone"]
        else:
            row["phone_display"] = format_phone(row["primary_phone"]) if row.get("primary_phone") else ""
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
        row["status_label"] = statuses.get(row["status"], row["status"])
    return rows


def _non_empty(params: QueryDict) -> QueryDict:
    """The query without empty fields and without the default sort, for links and the address bar."""
    kept = QueryDict(mutable=True)
    for key, values in params.lists():
        for value in values:
            if value.strip() and not (key == "sort" and value == DEFAULT_SORT):
                kept.appendlist(key, value)
    return kept


def _log_search(
    request: HttpRequest, filters: CustomerFilters, query: QueryDict, rows: list[dict[str, Any]]
) -> None:
    """The access log gets every search request that carries a text or a filter (each htmx live-search
    request is one), with the customers shown on the page."""
    shown = {k: query.getlist(k) for k in query if k not in ("q", "cursor")}
    if not filters.q and not any(k != "sort" for k in shown):
        return
    if query.get("cursor"):
        shown["page"] = ["next"]
    log_access(
        request.user,
        AccessKind.SEARCH,
        customer_ids=[row["id"] for row in rows],
        query=loggable_query(filters.q, rows),
        filters=shown,
        result_count=len(rows),
    )


def _int_or_none(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    owners = catalogues.account_managers(request.user, include=[_int_or_none(request.GET.get("owner"))])
    filterable = [
        d
        for d in catalogues.custom_field_definitions(include_retired=False)
        if d.field_type == CustomFieldType.CHOICE
    ]
    form = CustomerFilterForm(
        request.GET,
        owners=owners,
        categories=catalogues.categories(),
        roles=catalogues.roles(),
        filterable=filterable,
    )
    form.is_valid()  # shape only (all fields optional); the selector checks the values
    list_url = reverse("parties:customer_list")
    query = _non_empty(request.GET)
    rows: list[dict[str, Any]] = []
    next_url = ""
    total: int | None = None
    status = 200
    cursor = request.GET.get("cursor") or None
    try:
        filters = CustomerFilters.from_params(request.GET)
        check_filterable(request.user, "customer", [f"custom.{k}" for k in filters.custom], param=_cf_param)
        page = customer_search(user=request.user, filters=filters, cursor=cursor, limit=PAGE_SIZE)
    except ValidationError as exc:
        apply_service_errors(exc, form)
        status = 400
    else:
        rows = _decorate_rows(mask_rows(request.user, page.rows), {u.pk: str(u) for u in owners})
        if page.next_cursor:
            params = query.copy()
            params["cursor"] = page.next_cursor
            next_url = f"{list_url}?{params.urlencode()}"
        elif not cursor:
            total = len(rows)  # everything fits on one page: the count is free
        _log_search(request, filters, query, rows)
    first_page = query.copy()
    first_page.pop("cursor", None)
    context = {
        "form": form,
        "rows": rows,
        "next_url": next_url,
        "total": total,
        "is_continued": bool(cursor),
        "first_page_url": f"{list_url}?{first_page.urlencode()}",
    }
    if htmx_target(request) == "results":
        # htmx swaps only 2xx answers; the filter errors are part of the fragment.
        response = render(request, "parties/_customer_results.html", context)
        # The address bar gets the filters that are set, not every empty field of the form.
        response["HX-Push-Url"] = f"{list_url}?{query.urlencode()}" if query else list_url
        return response
    return render(request, "parties/customer_list.html", context, status=status)


@login_required
@require_GET
def customer_autocomplete(request: HttpRequest) -> HttpResponse:
    """Options for picking a customer by typing part of a name or a number (radio buttons)."""
    query = (request.GET.get("q") or request.GET.get("other_q") or "").strip()
    exclude = request.GET.get("exclude") or ""
    name = request.GET.get("field") or "other"
    rows: list[dict[str, Any]] = []
    if query:
        try:
            page = customer_search(
                user=request.user, filters=CustomerFilters(q=query), limit=AUTOCOMPLETE_SIZE + 1
            )
        except ValidationError:
            page = None
        if page is not None:
            rows = [r for r in page.rows if r["customer_number"] != exclude][:AUTOCOMPLETE_SIZE]
    return render(
        request,
        "parties/_autocomplete.html",
        {"rows": rows, "query": query, "field_name": name if name.isidentifier() else "other"},
    )


def _bound_formsets(request: HttpRequest, customer: Customer | None) -> dict[str, Any]:
    """The contact-point formsets, bound to the POST data or filled from the customer."""
    if request.method == "POST":
        data = request.POST.copy()
        add = request.POST.get("_add")
        if add in CONTACT_FORMSETS:
            key = f"{add}-TOTAL_FORMS"
            try:
                data[key] = str(int(data.get(key, "0")) + 1)
            except ValueError:
                data[key] = "1"
        return {name: cls(data, prefix=name) for name, cls in CONTACT_FORMSETS.items()}
    initial = contact_initial(customer) if customer is not None else {}
    return {
        name: cls(initial=initial.get(name) or None, prefix=name) for name, cls in CONTACT_FORMSETS.items()
    }


def _customer_form(
    request: HttpRequest, kind: str, customer: Customer | None
) -> tuple[CustomerForm, dict[str, Any]]:
    definitions = definitions_for(kind)
    options: dict[str, Any] = {
        "kind": kind,
        "definitions": definitions,
        "owners": catalogues.account_managers(
            request.user, include=[customer.owner_id if customer is not None else None]
        ),
        "categories": catalogues.categories(),
        "roles": catalogues.roles(),
    }
    current = customer_initial(customer, definitions) if customer is not None else {}
    if request.method == "POST":
        form = CustomerForm(request.POST, **options)
    elif customer is not None:
        form = CustomerForm(initial=current, **options)
    else:
        form = CustomerForm(initial={"owner": str(request.user.pk)}, **options)
    if customer is not None:
        form.fields["version"].required = True
    view = field_view(request.user, customer)
    form.restrict(view, current)
    formsets = _bound_formsets(request, customer)
    # contact lists the user may not change are shown (masked) instead of edited, and left as they are
    form.locked_lists = {}  # type: ignore[attr-defined]
    for name in list(formsets):
        if not view.can_write(name):
            del formsets[name]
            rows = list(getattr(customer, name).all()) if customer is not None else []
            form.locked_lists[name] = mask_items(view, name, rows)  # type: ignore[attr-defined]
    return form, formsets


def _save_customer(
    request: HttpRequest, form: CustomerForm, formsets: dict[str, Any], customer: Customer | None
) -> tuple[Customer | None, bool]:
    """Call the service; map its errors onto the forms. Returns (customer or None, conflict?)."""
    contacts: dict[str, list[dict[str, Any]]] = {}
    rows: dict[str, Any] = {}
    for name, formset in formsets.items():
        items, indexes = formset_items(formset)
        contacts[name] = items
        rows[name] = (formset, indexes)
    arguments: dict[str, Any] = {
        "actor": request.user,
        "data": form.master_data(),
        # a list without a formset is locked for the user: None leaves it as it is
        "phones": contacts.get("phones"),
        "emails": contacts.get("emails"),
        "addresses": contacts.get("addresses"),
        "custom": form.custom_data(),
        "category_ids": [int(i) for i in form.cleaned_data.get("categories") or []],
        "tag_names": form.tag_names(),
        "role_ids": [int(i) for i in form.cleaned_data.get("roles") or []],
    }
    try:
        if customer is None:
            return services.customer_create(kind=form.kind, **arguments), False
        return services.customer_update(
            customer=customer, expected_version=form.cleaned_data["version"], **arguments
        ), False
    except ValidationError as exc:
        apply_service_errors(exc, form, formsets=rows)
    except ConflictError:
        form.add_error(
            None,
            _(
                "Someone else changed this customer after you opened it. Nothing was saved; your input "
                "is kept below. Reload the customer to see the other change, then apply yours again."
            ),
        )
        return None, True
    return None, False


def _render_customer_form(
    request: HttpRequest,
    form: CustomerForm,
    formsets: dict[str, Any],
    *,
    customer: Customer | None,
    status: int = 200,
    conflict: bool = False,
) -> HttpResponse:
    return render(
        request,
        "parties/customer_form.html",
        {
            "form": form,
            "formsets": formsets,
            "customer": customer,
            "kind": form.kind,
            "kind_label": dict(CustomerKind.choices)[form.kind],
            "conflict": conflict,
        },
        status=status,
    )


def _all_valid(form: CustomerForm, formsets: dict[str, Any]) -> bool:
    valid = form.is_valid()
    for formset in formsets.values():
        valid = formset.is_valid() and valid
    return valid


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "customer", "create")
    kind = request.GET.get("kind") or request.POST.get("kind") or CustomerKind.PERSON
    if kind not in CustomerKind.values:
        messages.error(request, _("Choose whether the new customer is a person or a company."))
        kind = CustomerKind.PERSON
    form, formsets = _customer_form(request, kind, None)
    if request.method == "POST" and not request.POST.get("_add"):
        if _all_valid(form, formsets):
            created, _conflict = _save_customer(request, form, formsets, None)
            if created is not None:
                messages.success(
                    request,
                    _("%(name)s was created with number %(number)s.")
                    % {"name": created.display_name, "number": created.customer_number},
                )
                return redirect("parties:customer_detail", number=created.customer_number)
        return _render_customer_form(request, form, formsets, customer=None, status=400)
    return _render_customer_form(request, form, formsets, customer=None)


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_page(user=request.user, customer_number=number)
    if not can_change(request.user, customer):
        raise PermissionDenied(_("You may see this customer but not change it."))
    form, formsets = _customer_form(request, customer.kind, customer)
    if request.method == "POST" and not request.POST.get("_add"):
        if _all_valid(form, formsets):
            saved, conflict = _save_customer(request, form, formsets, customer)
            if saved is not None:
                messages.success(request, _("Your changes were saved."))
                return redirect("parties:customer_detail", number=saved.customer_number)
            if conflict:
                return _render_customer_form(
                    request, form, formsets, customer=customer, status=409, conflict=True
                )
        return _render_customer_form(request, form, formsets, customer=customer, status=400)
    note_sensitive_view(request.user, customer, field_view(request.user, customer), channel="web")
    return _render_customer_form(request, form, formsets, customer=customer)


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_by_number(user=request.user, customer_number=number)
    if not (has_permission(request.user, "customer", "delete") and can_change(request.user, customer)):
        raise PermissionDenied(_("You may not delete this customer."))
    if request.method == "POST":
        try:
            services.customer_delete(actor=request.user, customer=customer)
        except DeleteRefused as exc:
            messages.error(request, exc.message)
            return redirect("parties:customer_detail", number=customer.customer_number)
        messages.success(request, _("%(name)s was deleted.") % {"name": customer.display_name})
        return redirect("parties:customer_list")
    return render(request, "parties/customer_delete.html", {"customer": customer})
