"""Lead pages (/sales/leads/): list with filters, page with follow-up tasks and status steps, create, edit,
delete, reassign, convert (with the duplicate candidates); assignment rules and web-to-lead forms
(``lead.administer``); "my tasks"."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError
from kith.core.forms import apply_service_errors
from kith.parties.selectors.customers import customers_for
from kith.sales import currencies, sensitive
from kith.sales.choices import LEAD, LeadStatus
from kith.sales.lead_forms import (
    AssignForm,
    ConvertForm,
    DisqualifyForm,
    LeadFilterForm,
    LeadForm,
    RuleForm,
    TaskForm,
    WebFormForm,
)
from kith.sales.models import Lead
from kith.sales.selectors import leads as selectors
from kith.sales.services import assignment, leads, tasks, web_forms
from kith.sales.views._edit import (
    conflict_message,
    conflict_notice,
    form_status,
    initial_of,
    posted_version,
    save_versioned,
)
from kith.sales.views._lists import list_page
from kith.security import masking
from kith.security.rules import ADMINISTER, CREATE, DELETE, EDIT, has_permission, require_permission


def lead_permissions(user: Any) -> dict[str, bool]:
    return {a: has_permission(user, LEAD, a) for a in ("view", "create", "edit", "delete", "administer")}


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("lead_perms", lead_permissions(request.user))
    return render(request, template, context, status=status)


def opportunity_url(pk: int) -> str | None:
    try:
        return reverse("sales:opportunity_detail", args=[pk])
    except NoReverseMatch:
        return None


# --- leads -----------------------------------------------------------------------------------------


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    form = LeadFilterForm(request.GET or None)
    filters = selectors.LeadFilters()
    if form.is_valid():
        filters = selectors.LeadFilters(
            q=form.cleaned_data.get("q") or "",
            status=form.cleaned_data.get("status") or "",
            owner=form.cleaned_data.get("owner") or "",
            source=form.cleaned_data.get("source") or "",
            territory=form.cleaned_data.get("territory") or "",
        )
    rows = selectors.lead_list(user=request.user, filters=filters)
    context = list_page(request, rows)
    page = context["page"]
    page.object_list = sensitive.shown_all(request.user, list(page.object_list), object_type=LEAD)
    context["fv"] = masking.field_view(request.user, None, object_type=LEAD)  # the role's field rules
    return _render(request, "sales/leads/lead_list.html", {"form": form, **context})


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, LEAD, CREATE)
    form = LeadForm(request.POST or None, initial={"currency": currencies.default_code()})
    locked = sensitive.lock_form(form, masking.field_view(request.user, None, object_type=LEAD))
    if request.method == "POST" and form.is_valid():
        try:
            masking.check_writable(request.user, LEAD, sensitive.posted_changes(form, locked))
            lead = leads.lead_create(actor=request.user, data=sensitive.unlocked(form.service_data(), locked))
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The lead “%(name)s” is saved.") % {"name": lead})
            if selectors.leads_for(request.user).filter(pk=lead.pk).exists():
                return redirect("sales:lead_detail", pk=lead.pk)
            return redirect("sales:lead_list")
    return _render(request, "sales/leads/lead_form.html", {"form": form}, status=form_status(form))


def _detail(
    request: HttpRequest,
    lead: Lead,
    *,
    task_form: TaskForm | None = None,
    disqualify_form: DisqualifyForm | None = None,
    assign_form: AssignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_change = selectors.may_change(request.user, lead) and has_permission(request.user, LEAD, EDIT)
    view = masking.field_view(request.user, lead, object_type=LEAD)
    task_rows = list(selectors.tasks_of(lead))
    today = timezone.localdate()
    for task in task_rows:
        task.overdue = task.done_at is None and task.due_date < today  # type: ignore[attr-defined]
    return _render(
        request,
        "sales/leads/lead_detail.html",
        {
            "lead": sensitive.shown(view, lead),
            "fv": view,
            "may_reassign": view.can_write("owner"),
            "may_change": may_change,
            "is_converted": lead.status == LeadStatus.CONVERTED,
            "tasks": task_rows,
            "task_form": task_form or TaskForm(),
            "disqualify_form": disqualify_form or DisqualifyForm(initial={"version": lead.version}),
            "assign_form": assign_form
            or AssignForm(initial={"version": lead.version, "owner": lead.owner_id}),
            "opportunity_link": opportunity_url(lead.converted_opportunity_id)
            if lead.converted_opportunity_id
            else None,
        },
        status=status,
    )


@login_required
@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.lead_for(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_for(request.user, pk)
    require_permission(request.user, LEAD, EDIT)
    converted = lead.status == LeadStatus.CONVERTED
    initial = {**initial_of(lead, LeadForm), "phone": lead.phone_raw or lead.phone}
    form = LeadForm(request.POST or None, initial=initial, converted=converted)
    del form.fields["owner"]  # a new owner is given with "Reassign" (an empty field is not "nobody")
    view = masking.field_view(request.user, lead, object_type=LEAD)
    locked = sensitive.lock_form(form, view, lead)

    def update(*, data: dict[str, Any], expected_version: int | None) -> None:
        if converted:
            data = {"description": data.get("description", "")}
        masking.check_writable(request.user, LEAD, sensitive.posted_changes(form, locked), record=lead)
        data = sensitive.unlocked(data, locked)  # a locked field keeps its stored value
        leads.lead_update(actor=request.user, lead=lead, data=data, expected_version=expected_version)

    return save_versioned(
        request,
        form,
        update,
        template="sales/leads/lead_form.html",
        context={"form": form, "lead": sensitive.shown(view, lead)},
        saved=lambda: _("The lead “%(name)s” is saved.") % {"name": sensitive.shown(view, lead)},
        then=reverse("sales:lead_detail", args=[lead.pk]),
        show=_render,
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_delete(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_for(request.user, pk)
    require_permission(request.user, LEAD, DELETE)
    shown = sensitive.shown(masking.field_view(request.user, lead, object_type=LEAD), lead)
    if request.method == "POST":
        leads.lead_delete(actor=request.user, lead=lead)
        messages.success(request, _("The lead “%(name)s” is deleted.") % {"name": shown})
        return redirect("sales:lead_list")
    return render(
        request,
        "sales/confirm_delete.html",
        {"object": shown, "cancel_url": reverse("sales:lead_detail", args=[lead.pk])},
    )


def _step(request: HttpRequest, pk: int, action: Callable[..., Any], done: str) -> HttpResponse:
    lead = selectors.lead_for(request.user, pk)
    try:
        action(actor=request.user, lead=lead, expected_version=posted_version(request))
    except ConflictError:
        messages.error(request, conflict_notice())
    except leads.LeadConverted as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect("sales:lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_contacted(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, leads.lead_mark_contacted, _("Marked as contacted."))


@login_required
@require_POST
def lead_qualify(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, leads.lead_qualify, _("Marked as qualified."))


@login_required
@require_POST
def lead_disqualify(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_for(request.user, pk)
    form = DisqualifyForm(request.POST)
    if form.is_valid():
        try:
            leads.lead_disqualify(
                actor=request.user,
                lead=lead,
                reason=form.cleaned_data.get("reason") or "",
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except ConflictError:
            form.add_error(None, conflict_message())
        except leads.LeadConverted as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Marked as not qualified."))
            return redirect("sales:lead_detail", pk=lead.pk)
    return _detail(request, lead, disqualify_form=form, status=400)


@login_required
@require_POST
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_for(request.user, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            leads.lead_assign(
                actor=request.user,
                lead=lead,
                owner=form.cleaned_data.get("owner"),
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except ConflictError:
            form.add_error(None, conflict_message())
        except leads.LeadConverted as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The lead has a new owner."))
            if selectors.leads_for(request.user).filter(pk=lead.pk).exists():
                return redirect("sales:lead_detail", pk=lead.pk)
            return redirect("sales:lead_list")
    return _detail(request, lead, assign_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_for(request.user, pk)
    require_permission(request.user, LEAD, EDIT)
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead is already converted."))
        return redirect("sales:lead_detail", pk=lead.pk)
    candidates = selectors.conversion_candidates(request.user, lead)
    shown = sensitive.shown(masking.field_view(request.user, lead, object_type=LEAD), lead)
    form = ConvertForm(
        request.POST or None,
        initial={
            "customer": str(candidates[0].id) if candidates and candidates[0].score == 100 else "",
            "opportunity_name": shown.company or str(shown),
            "amount": shown.estimated_value if shown.estimated_value not in (None, "") else "",
            "currency": lead.currency or currencies.default_code(),
        },
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data.get("customer") or ""
        customer = None
        if chosen:
            customer = (
                customers_for(request.user).filter(pk=int(chosen)).first() if chosen.isdigit() else None
            )
            if customer is None:
                form.add_error(None, _("Choose one of the customers listed, or a new customer."))
        if not form.errors:
            opportunity_data = {
                "name": form.cleaned_data.get("opportunity_name") or "",
                "amount": form.cleaned_data.get("amount") or "",
                "currency": form.cleaned_data.get("currency") or "",
                "expected_close_date": form.cleaned_data.get("expected_close_date"),
            }
            try:
                result = leads.lead_convert(
                    actor=request.user,
                    lead=lead,
                    customer=customer,
                    create_opportunity=bool(form.cleaned_data.get("create_opportunity")),
                    opportunity_data=opportunity_data,
                )
            except ValidationError as error:
                aliases = {f"opportunity.{k}": k for k in ("amount", "currency", "expected_close_date")}
                aliases["opportunity.name"] = "opportunity_name"
                apply_service_errors(error, form, aliases=aliases)
            except leads.LeadConverted as refused:
                messages.error(request, refused.message)
                return redirect("sales:lead_detail", pk=lead.pk)
            else:
                messages.success(
                    request,
                    _("The lead is converted into the customer %(customer)s.")
                    % {"customer": result.customer.display_name},
                )
                return redirect("parties:customer_detail", result.customer.customer_number)
    return _render(
        request,
        "sales/leads/lead_convert.html",
        {"lead": shown, "form": form, "candidates": candidates, "chosen": form["customer"].value() or ""},
        status=form_status(form),
    )


# --- follow-up tasks -------------------------------------------------------------------------------


@login_required
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_for(request.user, pk)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            tasks.task_create(actor=request.user, lead=lead, data=dict(form.cleaned_data))
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The task is added."))
            return redirect("sales:lead_detail", pk=lead.pk)
    return _detail(request, lead, task_form=form, status=400)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_for(request.user, pk)
    done = request.POST.get("done", "1") != "0"
    try:
        tasks.task_set_done(
            actor=request.user, task=task, done=done, expected_version=posted_version(request)
        )
    except ConflictError:
        messages.error(request, conflict_notice())
    next_url = request.POST.get("next") or ""
    if next_url == "tasks":
        return redirect("sales:task_list")
    if task.lead_id:
        return redirect("sales:lead_detail", pk=task.lead_id)
    return redirect("sales:task_list")


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.my_open_tasks(request.user)[:500])
    today = timezone.localdate()
    for task in rows:
        task.overdue = task.due_date < today  # type: ignore[attr-defined]
        task.opportunity_link = opportunity_url(task.opportunity_id) if task.opportunity_id else None  # type: ignore[attr-defined]
    return _render(request, "sales/leads/task_list.html", {"tasks": rows})


# --- assignment rules ------------------------------------------------------------------------------


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    return _render(request, "sales/leads/rule_list.html", {"rules": selectors.rules_for(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, LEAD, ADMINISTER)
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assignment.rule_create(actor=request.user, data=form.service_data())
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The rule is saved."))
            return redirect("sales:lead_rule_list")
    return _render(request, "sales/leads/rule_form.html", {"form": form}, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = selectors.rule_for(request.user, pk)
    initial = {
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "territory": rule.territory,
        "category": rule.category_id,
        "source": rule.source,
        "method": rule.method,
        "users": list(rule.users.values_list("pk", flat=True)),
        "version": rule.version,
    }
    form = RuleForm(request.POST or None, initial=initial)
    return save_versioned(
        request,
        form,
        functools.partial(assignment.rule_update, actor=request.user, rule=rule),
        template="sales/leads/rule_form.html",
        context={"form": form, "rule": rule},
        saved=_("Saved."),
        then=reverse("sales:lead_rule_list"),
        show=_render,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = selectors.rule_for(request.user, pk)
    if request.method == "POST":
        assignment.rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("The rule “%(name)s” is deleted.") % {"name": rule.name})
        return redirect("sales:lead_rule_list")
    return render(
        request, "sales/confirm_delete.html", {"object": rule, "cancel_url": reverse("sales:lead_rule_list")}
    )


# --- web-to-lead forms -----------------------------------------------------------------------------


@login_required
@require_GET
def web_form_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request, "sales/leads/web_form_list.html", {"web_forms": selectors.web_forms_for(request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def web_form_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, LEAD, ADMINISTER)
    form = WebFormForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = web_forms.web_form_create(actor=request.user, data=form.service_data())
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The form is saved: paste the snippet below into your site."))
            return redirect("sales:web_form_detail", pk=made.pk)
    return _render(request, "sales/leads/web_form_form.html", {"form": form}, status=form_status(form))


@login_required
@require_GET
def web_form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    web_form = selectors.web_form_for(request.user, pk)
    link = request.build_absolute_uri(reverse("webforms:form", args=[web_form.key]))
    snippet = (
        f'<iframe src="{link}" title="{web_form.title or web_form.name}" '
        'style="width:100%;max-width:40rem;height:42rem;border:0" loading="lazy"></iframe>'
    )
    return _render(
        request,
        "sales/leads/web_form_detail.html",
        {"web_form": web_form, "link": link, "snippet": snippet},
    )


@login_required
@require_http_methods(["GET", "POST"])
def web_form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    web_form = selectors.web_form_for(request.user, pk)
    form = WebFormForm(request.POST or None, initial=initial_of(web_form, WebFormForm))
    return save_versioned(
        request,
        form,
        functools.partial(web_forms.web_form_update, actor=request.user, web_form=web_form),
        template="sales/leads/web_form_form.html",
        context={"form": form, "web_form": web_form},
        saved=_("Saved."),
        then=reverse("sales:web_form_detail", args=[web_form.pk]),
        show=_render,
    )


@login_required
@require_http_methods(["GET", "POST"])
def web_form_delete(request: HttpRequest, pk: int) -> HttpResponse:
    web_form = selectors.web_form_for(request.user, pk)
    if request.method == "POST":
        web_forms.web_form_delete(actor=request.user, web_form=web_form)
        messages.success(request, _("The form “%(name)s” is deleted.") % {"name": web_form.name})
        return redirect("sales:web_form_list")
    return render(
        request,
        "sales/confirm_delete.html",
        {"object": web_form, "cancel_url": reverse("sales:web_form_detail", args=[web_form.pk])},
    )
