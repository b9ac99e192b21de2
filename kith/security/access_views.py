"""Pages of field security: the field rules per role, asking for access to a record's sensitive fields,
and the list of access requests (mine and those to decide). Thin: permission, one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import DomainError
from kith.core.forms import apply_service_errors
from kith.security import access_requests as service
from kith.security import masking
from kith.security.access_forms import AccessRequestForm, DecisionForm, FieldRulesForm
from kith.security.models import FieldRule, Role
from kith.security.rules import ADMINISTER, VIEW, has_permission, require_permission


@login_required
@require_http_methods(["GET", "POST"])
def field_rules(request: HttpRequest) -> HttpResponse:
    """Per role: each field of a record type hidden, read-only or editable."""
    require_permission(request.user, "security", VIEW)
    types = masking.rule_object_types()
    object_type = request.GET.get("type") or (types[0] if types else "")
    if object_type not in types:
        raise Http404
    roles = list(Role.objects.order_by("name"))
    role = None
    raw_role = request.GET.get("role") or ""
    if raw_role.isdigit():
        role = next((r for r in roles if r.pk == int(raw_role)), None)
    role = role or (roles[0] if roles else None)
    form = None
    if role is not None:
        current = dict(
            FieldRule.objects.filter(role=role, object_type=object_type).values_list("field", "access")
        )
        form = FieldRulesForm(
            request.POST if request.method == "POST" else None,
            fields=masking.fields_of(object_type),
            current=current,
        )
        if request.method == "POST":
            require_permission(request.user, "security", ADMINISTER)
            if form.is_valid():
                try:
                    masking.save_field_rules(
                        actor=request.user, role=role, object_type=object_type, rules=form.rules()
                    )
                except ValidationError as exc:
                    apply_service_errors(exc, form)
                else:
                    messages.success(
                        request,
                        _("The field rules of %(role)s were saved; they take effect at once.")
                        % {"role": role},
                    )
                    return redirect(f"{request.path}?type={object_type}&role={role.pk}")
    sensitive = masking.sensitive_fields(object_type)
    return render(
        request,
        "security/field_rules.html",
        {
            "roles": roles,
            "role": role,
            "object_type": object_type,
            "types": types,
            "form": form,
            "sensitive": sensitive,
            "can_change": has_permission(request.user, "security", ADMINISTER),
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def access_request_new(request: HttpRequest, object_type: str, key: str) -> HttpResponse:
    """Ask to see one record's masked fields, with a purpose."""
    try:
        entry = service.record_type(object_type)
    except LookupError:
        raise Http404 from None
    record = entry.find(request.user, key)
    view = masking.field_view(request.user, record, object_type=object_type)
    back = entry.url(key)
    if not view.masked:
        messages.info(request, _("Nothing on this record is masked for you."))
        return redirect(back)
    choices = [(name, str(item.label or name)) for name, item in view.masked.items()]
    form = AccessRequestForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            service.request_access(
                actor=request.user,
                object_type=object_type,
                record=record,
                purpose=form.cleaned_data["purpose"],
                fields=form.cleaned_data["fields"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request, _("Your request was sent; you will see the fields once it is approved.")
            )
            return redirect(back)
    return render(
        request,
        "security/access_requests/new.html",
        {"form": form, "record": record, "label": entry.describe(record)[1], "key": key, "back": back},
        status=400 if form.errors else 200,
    )


def _rows(requests: Any) -> list[dict[str, Any]]:
    return [{"request": r, "url": service.record_url(r)} for r in requests]


@login_required
@require_GET
def access_request_list(request: HttpRequest) -> HttpResponse:
    service.expire_due()
    return render(
        request,
        "security/access_requests/list.html",
        {
            "to_decide": _rows(service.requests_to_decide(request.user)[:100]),
            "mine": _rows(service.requests_of(request.user)[:100]),
            "decision_form": DecisionForm(),
        },
    )


@login_required
@require_POST
def access_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    row = service.decidable(request.user, pk)
    if row is None:
        raise Http404
    form = DecisionForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    if request.POST.get("decision") not in ("approve", "reject") or not form.is_valid():
        messages.error(request, _("Choose approve or reject; a comment has at most 500 characters."))
        return redirect("access_requests:list")
    try:
        service.decide(
            actor=request.user, access_request=row, approve=approve, comment=form.cleaned_data["comment"]
        )
    except (ValidationError, DomainError, PermissionDenied) as exc:
        messages.error(
            request, " ".join(getattr(exc, "messages", None) or [str(getattr(exc, "message", exc))])
        )
    else:
        if approve:
            messages.success(
                request,
                _("Approved: %(user)s sees the fields until the grant expires.") % {"user": row.requester},
            )
        else:
            messages.success(request, _("Rejected."))
    return redirect("access_requests:list")


@login_required
@require_POST
def access_request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(service.requests_of(request.user), pk=pk)
    try:
        service.withdraw(actor=request.user, access_request=row)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The request was withdrawn."))
    return redirect("access_requests:list")
