"""Opportunity pages (/sales/opportunities/): the list, the kanban board (drag and drop, and a "Move to"
form per card that works without JavaScript), a deal's page with its stage history, approvals and the
won/lost form, create/edit/delete; pipeline administration; the approvals inbox and limits."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError, DeleteRefused, DomainError
from kith.core.forms import apply_service_errors
from kith.parties.selectors.customers import customers_for
from kith.sales import currencies, sensitive
from kith.sales.choices import LEAD, OPPORTUNITY, StageKind
from kith.sales.models import CloseReason, Opportunity, Stage
from kith.sales.opportunity_forms import (
    ApprovalDecisionForm,
    ApprovalLimitsForm,
    ApprovalRequestForm,
    CloseReasonForm,
    MoveForm,
    OpportunityFilterForm,
    OpportunityForm,
    PipelineForm,
    StageForm,
)
from kith.sales.selectors import opportunities as selectors
from kith.sales.services import approvals as approval_services
from kith.sales.services import opportunities as services
from kith.sales.services import pipelines as pipeline_services
from kith.sales.views._edit import form_status, save_versioned
from kith.sales.views._lists import list_page
from kith.security import masking
from kith.security.rules import ADMINISTER, APPROVE, CREATE, DELETE, EDIT, has_permission, require_permission


def _conflict_message() -> str:
    return _(
        "Someone else changed this deal after you opened it. Nothing was saved; your input is kept below. "
        "Reload the page to see the other change, then apply yours again."
    )


def _may(user: Any) -> dict[str, bool]:
    """What the templates show buttons for."""
    return {
        action: has_permission(user, OPPORTUNITY, action)
        for action in (CREATE, EDIT, DELETE, APPROVE, ADMINISTER)
    }


def _context(request: HttpRequest, **values: Any) -> dict[str, Any]:
    return {"may": _may(request.user), **values}


def _customer_by_number(user: Any, number: str) -> Any:
    number = (number or "").strip()
    if not number:
        return None
    return customers_for(user).filter(customer_number=number).first()


# --- list and board -----------------------------------------------------------------------------------
@login_required
@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    form = OpportunityFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "q": data.get("q") or "",
            "pipeline": data.get("pipeline") or None,
            "stage": data.get("stage") or None,
            "status": data.get("status") or "",
            "owner": data.get("owner") or None,
            "customer": data.get("customer") or "",
            "close_from": data.get("close_from"),
            "close_to": data.get("close_to"),
            "ordering": data.get("ordering") or "-created_at",
        }
    rows = selectors.opportunity_list(user=request.user, **filters)
    context = list_page(request, rows)
    page = context["page"]
    page.object_list = sensitive.shown_all(request.user, list(page.object_list), object_type=OPPORTUNITY)
    return render(request, "sales/opportunities/list.html", _context(request, form=form, **context))


CARD_HTML = (
    '<li class="board-card" draggable="true" data-id="{id}" data-version="{version}" data-amount="{amount}" '
    'data-currency="{currency}" data-move-url="{move_url}">'
    '<a class="board-card-title" href="{detail_url}">{name}</a>'
    '<p class="small"><span class="mono">{number}</span> {customer}</p>'
    '<p class="small"><span class="mono">{amount} {currency}</span>{extra}</p>'
    '<form method="post" action="{move_url}" class="board-move">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    '<input type="hidden" name="version" value="{version}">'
    '<input type="hidden" name="next" value="{next}">'
    '<label for="move-{id}" class="small">{move_to}</label>'
    '<select name="stage" id="move-{id}">{options}</select>'
    '<button type="submit" class="btn btn-small">{move}</button>'
    "</form></li>"
)


def _render_cards(request: HttpRequest, board: selectors.Board) -> None:
    """Each card's HTML, built here in one pass: 200 cards through the template engine (a URL, a form and a
    menu each) would cost more than the whole query work of the board. Every value is escaped."""
    from html import escape

    from django.middleware.csrf import get_token
    from django.utils.safestring import mark_safe

    fixed = {
        "csrf": escape(get_token(request)),
        "next": escape(request.get_full_path()),
        "move_to": escape(_("Move to")),
        "move": escape(_("Move")),
    }
    move_url = escape(reverse("sales:opportunity_move", args=[0])).replace("/0/", "/%d/")
    detail_url = escape(reverse("sales:opportunity_detail", args=[0])).replace("/0/", "/%d/")
    open_stages = [s for s in board.stages if s.kind == StageKind.OPEN]
    views = masking.field_views(
        request.user,
        [{"id": card.id} for column in board.columns for card in column.cards],
        object_type=OPPORTUNITY,
    )
    if not masking.may_filter_by(request.user, OPPORTUNITY, "amount"):
        for column in board.columns:
            column.totals = []  # a sum tells the amounts it is made of
    for column in board.columns:
        options = "".join(
            '<option value="{}"{}>{}</option>'.format(
                int(s.pk), " selected" if s.pk == column.stage.pk else "", escape(s.name)
            )
            for s in open_stages
        )
        for card in column.cards:
            card_fields(request.user, card, views)
            extra = []
            if card.expected_close_date:
                extra.append(card.expected_close_date.isoformat())
            if card.owner:
                extra.append(card.owner)
            card.html = mark_safe(  # type: ignore[attr-defined]  # noqa: S308 - every value is escaped above
                CARD_HTML.format(
                    **fixed,
                    id=int(card.id),
                    version=int(card.version),
                    amount=escape("" if card.amount is None else str(card.amount)),
                    currency=escape(card.currency),
                    move_url=move_url % card.id,
                    detail_url=detail_url % card.id,
                    name=escape(card.name),
                    number=escape(card.customer_number),
                    customer=escape(card.customer_name),
                    extra=escape("".join(" · " + part for part in extra)),
                    options=options,
                )
            )


def card_fields(user: Any, card: selectors.Card, views: dict[int, masking.FieldView]) -> None:
    """A board card as ``user`` may see it: a field their field rules hide is left off the card."""
    view = views[card.id]
    if not view.hidden and not view.masked:
        return
    for name, attr, empty in (
        ("name", "name", "—"),
        ("amount", "amount", None),
        ("expected_close_date", "expected_close_date", None),
        ("owner", "owner", ""),
        ("customer", "customer_name", ""),
        ("customer", "customer_number", ""),
    ):
        value = getattr(card, attr)
        if name in view.hidden:
            setattr(card, attr, empty)
        elif name in view.masked and value not in (None, ""):
            setattr(card, attr, masking.mask(view.masked[name].kind, value))
    if "currency" in view.hidden:
        card.currency = ""


@login_required
@require_GET
def opportunity_board(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, "view")
    active = list(selectors.pipelines(active_only=True))
    wanted = request.GET.get("pipeline") or ""
    pipeline = next((p for p in active if str(p.pk) == wanted), None)
    if pipeline is None:
        pipeline = selectors.board_pipeline(wanted) if wanted else (active[0] if active else None)
    board = None
    if pipeline is not None:
        board = selectors.board(user=request.user, pipeline=pipeline, owner=request.GET.get("owner"))
        _render_cards(request, board)
    return render(
        request,
        "sales/opportunities/board.html",
        _context(
            request,
            board=board,
            pipeline=pipeline,
            pipelines=active,
            amounts_shown=masking.may_filter_by(request.user, OPPORTUNITY, "amount"),
        ),
    )


# --- one deal -----------------------------------------------------------------------------------------
def _detail_context(request: HttpRequest, opportunity: Opportunity, **extra: Any) -> dict[str, Any]:
    approvals = selectors.approvals_of(opportunity)
    pending = next((a for a in approvals if a.status == "pending"), None)
    reasons = approval_services.needs_approval(opportunity)
    stages = selectors.stages_of(opportunity.pipeline)
    view = masking.field_view(request.user, opportunity, object_type=OPPORTUNITY)
    lead = opportunity.lead
    if lead is not None:
        lead = sensitive.shown(masking.field_view(request.user, lead, object_type=LEAD), lead)
    return _context(
        request,
        opportunity=sensitive.shown(view, opportunity),
        fv=view,
        deal_owner_id=opportunity.owner_id,
        from_lead=lead,
        history=selectors.stage_history(opportunity),
        approvals=approvals,
        pending=pending,
        can_decide_pending=bool(pending and approval_services.can_decide(request.user, pending)),
        approval_needed=reasons,
        stages=stages,
        won_stages=[s for s in stages if s.kind == StageKind.WON],
        lost_stages=[s for s in stages if s.kind == StageKind.LOST],
        won_reasons=list(selectors.close_reasons(StageKind.WON)),
        lost_reasons=list(selectors.close_reasons(StageKind.LOST)),
        request_form=extra.pop("request_form", None) or ApprovalRequestForm(),
        decision_form=extra.pop("decision_form", None) or ApprovalDecisionForm(),
        **extra,
    )


@login_required
@require_GET
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_for(request.user, pk)
    return render(request, "sales/opportunities/detail.html", _detail_context(request, opportunity))


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, CREATE)
    customer_number = request.GET.get("customer", "")
    form = OpportunityForm(
        request.POST or None,
        initial={
            "customer": customer_number,
            "currency": currencies.default_code(),
            "amount": "0",
            "pipeline": request.GET.get("pipeline", ""),
        },
    )
    customer = _customer_by_number(request.user, customer_number)
    locked = sensitive.lock_form(form, masking.field_view(request.user, None, object_type=OPPORTUNITY))
    if request.method == "POST" and form.is_valid():
        data = sensitive.unlocked(form.service_data(), locked)
        number = data.pop("customer", "")
        data["customer"] = _customer_by_number(request.user, number)
        if data["customer"] is None and number:
            form.add_error("customer", _("No customer you can see has this number."))
        else:
            try:
                masking.check_writable(request.user, OPPORTUNITY, sensitive.posted_changes(form, locked))
                opportunity = services.opportunity_create(actor=request.user, data=data)
            except ValidationError as error:
                apply_service_errors(error, form)
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("The deal “%(name)s” is saved.") % {"name": opportunity.name})
                return redirect("sales:opportunity_detail", pk=opportunity.pk)
    return render(
        request,
        "sales/opportunities/form.html",
        _context(request, form=form, customer=customer),
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    require_permission(request.user, OPPORTUNITY, EDIT)
    initial = {
        "customer": opportunity.customer.customer_number,
        "name": opportunity.name,
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "discount_percent": opportunity.discount_percent,
        "probability": opportunity.probability,
        "owner": str(opportunity.owner_id or ""),
        "expected_close_date": opportunity.expected_close_date.isoformat()
        if opportunity.expected_close_date
        else "",
        "next_step": opportunity.next_step,
        "competitors": opportunity.competitors,
        "description": opportunity.description,
        "version": opportunity.version,
    }
    form = OpportunityForm(request.POST or None, initial=initial, editing=True)
    view = masking.field_view(request.user, opportunity, object_type=OPPORTUNITY)
    locked = sensitive.lock_form(form, view, opportunity)

    def update(*, data: dict[str, Any], expected_version: int | None) -> None:
        masking.check_writable(
            request.user, OPPORTUNITY, sensitive.posted_changes(form, locked), record=opportunity
        )
        data = sensitive.unlocked(data, locked)  # a locked field keeps its stored value
        number = data.pop("customer", "")
        if number and number != opportunity.customer.customer_number:
            data["customer"] = _customer_by_number(request.user, number)
            if data["customer"] is None:
                raise ValidationError({"customer": _("No customer you can see has this number.")})
        if "owner" not in locked and not data.get("owner"):
            data["owner"] = request.user
        services.opportunity_update(
            actor=request.user, opportunity=opportunity, data=data, expected_version=expected_version
        )

    return save_versioned(
        request,
        form,
        update,
        template="sales/opportunities/form.html",
        context=_context(request, form=form, opportunity=sensitive.shown(view, opportunity)),
        saved=lambda: _("The deal “%(name)s” is saved.") % {"name": sensitive.shown(view, opportunity).name},
        then=reverse("sales:opportunity_detail", args=[opportunity.pk]),
        conflict=_conflict_message(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    require_permission(request.user, OPPORTUNITY, DELETE)
    shown = sensitive.shown(
        masking.field_view(request.user, opportunity, object_type=OPPORTUNITY), opportunity
    )
    if request.method == "POST":
        services.opportunity_delete(actor=request.user, opportunity=opportunity)
        messages.success(request, _("The deal “%(name)s” is deleted.") % {"name": shown.name or "—"})
        return redirect("sales:opportunity_list")
    return render(
        request,
        "sales/confirm_delete.html",
        {"object": shown, "cancel_url": reverse("sales:opportunity_detail", args=[opportunity.pk])},
    )


def _wants_json(request: HttpRequest) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "") or request.headers.get("HX-Request") == "true"
    )


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage: from the board (a fetch answered with JSON) or a plain form POST (a
    redirect back with a message). A refused move says why: 409 for an approval needed or a stale version,
    400 for bad input."""
    json = _wants_json(request)
    try:
        opportunity = selectors.opportunity_for(request.user, pk, write=True)
    except Http404:
        if json:
            return JsonResponse(
                {"ok": False, "message": _("No such deal, or you may not change it.")}, status=404
            )
        raise
    fallback = reverse("sales:opportunity_detail", args=[opportunity.pk])
    form = MoveForm(request.POST)
    status, message, fields = 200, "", {}
    if not form.is_valid():
        status, fields = 400, {k: [str(m) for m in v] for k, v in form.errors.items()}
        message = _("Choose a stage.") if "stage" in form.errors else _("Reload the page and try again.")
    else:
        data = form.cleaned_data
        try:
            services.opportunity_move(
                actor=request.user,
                opportunity=opportunity,
                stage=data["stage"],
                expected_version=data["version"],
                close_reason=data.get("close_reason") or None,
                close_note=data.get("close_note") or "",
            )
        except ValidationError as error:
            status = 400
            fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            message = " ".join(m for v in fields.values() for m in v)
        except ConflictError:
            status, message = (
                409,
                _("Someone else changed this deal meanwhile: reload the page and move it again."),
            )
        except PermissionDenied:
            status, message = 403, _("You may not change this deal.")
        except DomainError as refused:
            status, message = refused.status, refused.message
        else:
            message = _("“%(name)s” is now in “%(stage)s”.") % {
                "name": sensitive.shown(
                    masking.field_view(request.user, opportunity, object_type=OPPORTUNITY), opportunity
                ).name
                or "—",
                "stage": opportunity.stage.name,
            }
    if json:
        return JsonResponse(
            {
                "ok": status == 200,
                "message": message,
                "errors": fields,
                "version": opportunity.version,
                "stage": opportunity.stage_id,
                "status": opportunity.status,
            },
            status=status,
        )
    (messages.success if status == 200 else messages.error)(request, message)
    return redirect(_back(request, fallback))


# --- approvals ----------------------------------------------------------------------------------------
@login_required
@require_POST
def approval_request(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    form = ApprovalRequestForm(request.POST)
    if form.is_valid():
        try:
            approval_services.approval_request(
                actor=request.user, opportunity=opportunity, comment=form.cleaned_data.get("comment") or ""
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except DomainError as refused:
            messages.error(request, refused.message)
            return redirect("sales:opportunity_detail", pk=opportunity.pk)
        else:
            messages.success(request, _("The approval is requested; the approver gets an email."))
            return redirect("sales:opportunity_detail", pk=opportunity.pk)
    return render(
        request,
        "sales/opportunities/detail.html",
        _detail_context(request, opportunity, request_form=form),
        status=400,
    )


@login_required
@require_POST
def approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval = selectors.approval_get(request.user, pk)
    form = ApprovalDecisionForm(request.POST)
    target = _back(request, reverse("sales:opportunity_detail", args=[approval.opportunity_id]))
    if form.is_valid():
        try:
            approval_services.approval_decide(
                actor=request.user,
                approval=approval,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data.get("comment") or "",
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except PermissionDenied as denied:
            messages.error(request, str(denied) or _("You may not decide this approval."))
            return redirect(target)
        except DomainError as refused:
            messages.error(request, refused.message)
            return redirect(target)
        else:
            messages.success(request, _("Your decision is saved; the requester gets an email."))
            return redirect(target)
    try:
        opportunity = selectors.opportunity_for(request.user, approval.opportunity_id)
    except Http404:
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, str(message))
        return redirect("sales:approval_list")
    return render(
        request,
        "sales/opportunities/detail.html",
        _detail_context(request, opportunity, decision_form=form),
        status=400,
    )


@login_required
@require_POST
def approval_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    approval = selectors.approval_get(request.user, pk)
    try:
        approval_services.approval_withdraw(actor=request.user, approval=approval)
    except (PermissionDenied, DomainError) as refused:
        messages.error(request, getattr(refused, "message", "") or str(refused))
    else:
        messages.success(request, _("The request is withdrawn."))
    return redirect(_back(request, reverse("sales:opportunity_detail", args=[approval.opportunity_id])))


@login_required
@require_GET
def approval_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sales/opportunities/approvals.html",
        _context(
            request,
            to_decide=list(approval_services.approvals_to_decide(request.user)[:200]),
            asked=list(approval_services.approvals_requested_by(request.user)[:200]),
            decision_form=ApprovalDecisionForm(),
            limits=approval_services.approval_limits(),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def approval_limits(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    limits = approval_services.approval_limits()
    form = ApprovalLimitsForm(
        request.POST or None,
        initial={
            "max_discount_percent": limits.max_discount_percent,
            "max_amount": limits.max_amount,
            "currency": limits.currency,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            approval_services.approval_limits_set(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The approval limits are saved."))
            return redirect("sales:approval_limits")
    return render(
        request, "sales/opportunities/limits.html", _context(request, form=form), status=form_status(form)
    )


# --- pipelines (administrators) -----------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def pipeline_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    form = PipelineForm(request.POST or None, initial={"is_active": True})
    reason_form = CloseReasonForm(prefix="reason")
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = pipeline_services.pipeline_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(
                request, _("The pipeline is created with the stages New, Won and Lost; change them below.")
            )
            return redirect("sales:pipeline_detail", pk=pipeline.pk)
    return render(
        request,
        "sales/opportunities/pipelines.html",
        _context(
            request,
            pipelines=list(selectors.pipelines()),
            form=form,
            reason_form=reason_form,
            reasons=list(selectors.close_reasons(active_only=False)),
        ),
        status=form_status(form),
    )


def _pipeline_page(
    request: HttpRequest, pipeline: Any, *, form: Any = None, stage_form: Any = None
) -> HttpResponse:
    status = (
        400 if (form is not None and form.errors) or (stage_form is not None and stage_form.errors) else 200
    )
    usage = selectors.stage_usage(pipeline)
    stages = selectors.stages_of(pipeline)
    for stage in stages:
        stage.in_use = usage.get(stage.pk, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "sales/opportunities/pipeline_detail.html",
        _context(
            request,
            pipeline=pipeline,
            stages=stages,
            form=form
            or PipelineForm(
                initial={
                    "name": pipeline.name,
                    "is_default": pipeline.is_default,
                    "is_active": pipeline.is_active,
                    "version": pipeline.version,
                }
            ),
            stage_form=stage_form or StageForm(prefix="stage"),
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A pipeline's settings and stages; POST saves the settings."""
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    pipeline = selectors.pipeline_get(pk)
    if request.method != "POST":
        return _pipeline_page(request, pipeline)
    form = PipelineForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        try:
            pipeline_services.pipeline_update(
                actor=request.user, pipeline=pipeline, data=data, expected_version=version
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except ConflictError:
            form.add_error(None, _conflict_message())
        else:
            messages.success(request, _("The pipeline is saved."))
            return redirect("sales:pipeline_detail", pk=pipeline.pk)
    return _pipeline_page(request, pipeline, form=form)


@login_required
@require_POST
def pipeline_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    pipeline = selectors.pipeline_get(pk)
    try:
        pipeline_services.pipeline_delete(actor=request.user, pipeline=pipeline)
    except DeleteRefused as refused:
        messages.error(request, refused.message)
        return redirect("sales:pipeline_detail", pk=pipeline.pk)
    messages.success(request, _("The pipeline is deleted."))
    return redirect("sales:pipeline_list")


@login_required
@require_POST
def stage_create(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    pipeline = selectors.pipeline_get(pk)
    form = StageForm(request.POST, prefix="stage")
    if form.is_valid():
        try:
            pipeline_services.stage_create(actor=request.user, pipeline=pipeline, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The stage is added."))
            return redirect("sales:pipeline_detail", pk=pipeline.pk)
    return _pipeline_page(request, pipeline, stage_form=form)


def _stage(pk: int) -> Stage:
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise Http404
    return stage


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    stage = _stage(pk)
    form = StageForm(
        request.POST or None,
        initial={
            "name": stage.name,
            "kind": stage.kind,
            "probability": stage.probability,
            "requires_approval": stage.requires_approval,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            pipeline_services.stage_update(actor=request.user, stage=stage, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The stage is saved."))
            return redirect("sales:pipeline_detail", pk=stage.pipeline_id)
    return render(
        request,
        "sales/opportunities/stage_form.html",
        _context(request, form=form, stage=stage),
        status=form_status(form),
    )


@login_required
@require_POST
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    stage = _stage(pk)
    try:
        pipeline_services.stage_delete(actor=request.user, stage=stage)
    except DeleteRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The stage is deleted."))
    return redirect("sales:pipeline_detail", pk=stage.pipeline_id)


@login_required
@require_POST
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    stage = _stage(pk)
    pipeline_services.stage_move(
        actor=request.user, stage=stage, step=-1 if request.POST.get("step") == "up" else 1
    )
    return redirect("sales:pipeline_detail", pk=stage.pipeline_id)


@login_required
@require_POST
def close_reason_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    form = CloseReasonForm(request.POST, prefix="reason")
    if form.is_valid():
        try:
            pipeline_services.close_reason_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The reason is added."))
            return redirect("sales:pipeline_list")
    return render(
        request,
        "sales/opportunities/pipelines.html",
        _context(
            request,
            pipelines=list(selectors.pipelines()),
            form=PipelineForm(initial={"is_active": True}),
            reason_form=form,
            reasons=list(selectors.close_reasons(active_only=False)),
        ),
        status=400,
    )


@login_required
@require_POST
def close_reason_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request.user, OPPORTUNITY, ADMINISTER)
    reason = CloseReason.objects.filter(pk=pk).first()
    if reason is None:
        raise Http404
    if request.POST.get("delete"):
        try:
            pipeline_services.close_reason_delete(actor=request.user, reason=reason)
        except DeleteRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("The reason is deleted."))
    else:
        pipeline_services.close_reason_update(
            actor=request.user, reason=reason, data={"is_active": not reason.is_active}
        )
    return redirect("sales:pipeline_list")
