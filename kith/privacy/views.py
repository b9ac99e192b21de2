"""The privacy pages: a customer's consents, export and erasure; finding a data subject by email or
phone, and the export and erasure of a person known only as a lead; purposes, retention rules and reports.

Thin: check input with a form, call one service or selector, render. Permission refusals are 403s
(``PermissionDenied``); the consents section loaded into the customer page is simply left out for users
who may not see consents.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kith.core.errors import DomainError
from kith.core.forms import apply_service_errors
from kith.parties.models import Customer
from kith.parties.selectors.customers import customer_by_number
from kith.parties.views import is_htmx
from kith.privacy import selectors
from kith.privacy.forms import (
    BulkErasureForm,
    ConsentForm,
    ErasureForm,
    LeadErasureForm,
    PurposeForm,
    RetentionRuleForm,
    SubjectSearchForm,
)
from kith.privacy.models import ConsentPurpose, RetentionRule
from kith.privacy.selectors import lookup
from kith.privacy.selectors import retention as retention_selectors
from kith.privacy.selectors import sales as sales_selectors
from kith.privacy.selectors.subject import subject_of_customer, subject_of_lead
from kith.privacy.services import consents as consent_services
from kith.privacy.services import erasure as erasure_services
from kith.privacy.services import retention as retention_services
from kith.privacy.services.export import export_bundle
from kith.security import rules

HISTORY_LIMIT = 50
REPORT_PAGE = 50


def _consent_context(
    request: HttpRequest, customer: Customer, form: ConsentForm | None = None
) -> dict[str, Any]:
    user = request.user
    return {
        "customer": customer,
        "erasure": selectors.erasure_of(customer),
        "current": selectors.current_consents(customer),
        "history": selectors.consent_history(customer, limit=HISTORY_LIMIT),
        "consent_form": form or ConsentForm(purposes=selectors.purposes()),
        "can_record": rules.has_permission(user, "privacy", rules.EDIT),
        "can_export": rules.has_permission(user, "privacy", rules.EXPORT),
        "can_erase": rules.has_permission(user, "privacy", rules.ADMINISTER),
    }


def zip_response(bundle: Any) -> HttpResponse:
    """A data-subject bundle as a download that no cache keeps (the page and the API)."""
    response = HttpResponse(bundle.content, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, bundle.filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def customer_consents(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the consents section (an htmx fragment on the customer page, or a page of its own).
    POST: record a consent given or withdrawn."""
    customer = customer_by_number(user=request.user, customer_number=number)
    if (
        request.method == "GET"
        and is_htmx(request)
        and not rules.has_permission(request.user, "privacy", rules.VIEW)
    ):
        return HttpResponse("")
    rules.require_permission(request.user, "privacy", rules.VIEW)
    form: ConsentForm | None = None
    status = 200
    if request.method == "POST":
        form = ConsentForm(request.POST, purposes=selectors.purposes())
        if form.is_valid():
            try:
                consent_services.consent_record(
                    actor=request.user,
                    customer=customer,
                    purpose=form.cleaned_data["purpose"],
                    channel=form.cleaned_data["channel"],
                    status=form.cleaned_data["status"],
                    occurred_at=form.cleaned_data.get("occurred_at"),
                    evidence=form.cleaned_data.get("evidence") or "",
                )
            except ValidationError as exc:
                apply_service_errors(exc, form)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                if not is_htmx(request):
                    messages.success(request, _("The consent was recorded."))
                    return redirect("privacy:customer_consents", number=customer.customer_number)
                form = None
        if form is not None and not is_htmx(request):
            status = 400  # an htmx fragment with field errors is a 200, as htmx swaps only those
    context = _consent_context(request, customer, form)
    template = "privacy/_consents.html" if is_htmx(request) else "privacy/consents.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def customer_export(request: HttpRequest, number: str) -> HttpResponse:
    """Download everything Kith holds about the customer (POST, so no prefetch or crawler triggers it)."""
    customer = customer_by_number(user=request.user, customer_number=number)
    bundle = export_bundle(actor=request.user, customer=customer)
    return zip_response(bundle)


@login_required
@require_http_methods(["GET", "POST"])
def customer_erase(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_by_number(user=request.user, customer_number=number)
    rules.require_permission(request.user, "privacy", rules.ADMINISTER)
    erasure = selectors.erasure_of(customer)
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and erasure is None and form.is_valid():
        try:
            erasure_services.customer_erase(
                actor=request.user,
                customer=customer,
                reason=form.cleaned_data["reason"],
                confirmation=form.cleaned_data["confirmation"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The customer's personal data was erased."))
            return redirect("parties:customer_detail", number=customer.customer_number)
    subject = subject_of_customer(customer)
    return render(
        request,
        "privacy/erase.html",
        {
            "customer": customer,
            "form": form,
            "erasure": erasure,
            "leads": list(sales_selectors.leads_of(subject)) if erasure is None else [],
            "documents": sales_selectors.documents_of(customer) if erasure is None else 0,
        },
        status=400 if form.errors else 200,
    )


# --- a data subject found by email or phone; a person known only as a lead ----------------------------


def _answers_requests(request: HttpRequest) -> None:
    if not (
        rules.has_permission(request.user, "privacy", rules.EXPORT)
        or rules.has_permission(request.user, "privacy", rules.ADMINISTER)
    ):
        raise PermissionDenied


@login_required
@require_http_methods(["GET"])
def subjects(request: HttpRequest) -> HttpResponse:
    """ "What do you hold about me?": the customers and leads known by an email address or phone number."""
    _answers_requests(request)
    form = SubjectSearchForm(request.GET if "q" in request.GET else None)
    matches = None
    if form.is_bound and form.is_valid():
        try:
            matches = lookup.find_subjects(user=request.user, query=form.cleaned_data["q"])
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            lookup.log_lookup(request.user, matches)
    return render(
        request,
        "privacy/subjects.html",
        {
            "form": form,
            "matches": matches,
            "can_export": rules.has_permission(request.user, "privacy", rules.EXPORT),
            "can_erase": rules.has_permission(request.user, "privacy", rules.ADMINISTER),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def lead_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download everything Kith holds about a person known only as a lead (and its twins by email/phone)."""
    lead = lookup.lead_for(user=request.user, lead_id=pk)
    bundle = export_bundle(actor=request.user, lead=lead)
    return zip_response(bundle)


@login_required
@require_http_methods(["GET", "POST"])
def lead_erase(request: HttpRequest, pk: int) -> HttpResponse:
    lead = lookup.lead_for(user=request.user, lead_id=pk)
    rules.require_permission(request.user, "privacy", rules.ADMINISTER)
    erasure = selectors.erasure_of_lead(lead)
    form = LeadErasureForm(request.POST or None)
    if request.method == "POST" and erasure is None and form.is_valid():
        try:
            erasure_services.lead_erase(
                actor=request.user,
                lead=lead,
                reason=form.cleaned_data["reason"],
                confirmation=form.cleaned_data["confirmation"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The lead's personal data was erased."))
            return redirect("privacy:subjects")
    return render(
        request,
        "privacy/erase_lead.html",
        {
            "lead": lead,
            "form": form,
            "erasure": erasure,
            # exactly the leads ``lead_erase`` erases for this user (the same rule, the same viewer)
            "leads": (
                list(sales_selectors.leads_of(subject_of_lead(lead, seen_by=request.user)))
                if erasure is None
                else []
            ),
        },
        status=400 if form.errors else 200,
    )


# --- administration: purposes, retention rules, reports ---------------------------------------------


def _administer(request: HttpRequest) -> None:
    rules.require_permission(request.user, "privacy", rules.ADMINISTER)


@login_required
@require_http_methods(["GET", "POST"])
def purposes(request: HttpRequest) -> HttpResponse:
    _administer(request)
    form = PurposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consent_services.purpose_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("The purpose was added."))
            return redirect("privacy:purposes")
    return render(
        request,
        "privacy/purposes.html",
        {"purposes": selectors.purposes(include_retired=True), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def purpose_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _administer(request)
    purpose = get_object_or_404(ConsentPurpose, pk=pk)
    initial = {f: getattr(purpose, f) for f in ("code", "name", "description", "is_active")}
    form = PurposeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            consent_services.purpose_update(actor=request.user, purpose=purpose, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("The purpose was saved."))
            return redirect("privacy:purposes")
    title = _("Purpose “%(name)s”") % {"name": purpose.name}
    return render(
        request,
        "privacy/edit.html",
        {"form": form, "title": title, "back": "privacy:purposes"},
        status=400 if form.errors else 200,
    )


def _with_open_flags(rules_qs: Any) -> list[RetentionRule]:
    counts = retention_selectors.open_flag_counts()
    found = list(rules_qs)
    for rule in found:
        rule.open_flags = counts.get(rule.pk, 0)  # type: ignore[attr-defined]
    return found


@login_required
@require_http_methods(["GET", "POST"])
def retention_rules(request: HttpRequest) -> HttpResponse:
    _administer(request)
    form = RetentionRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            retention_services.rule_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("The retention rule was added."))
            return redirect("privacy:retention_rules")
    return render(
        request,
        "privacy/rules.html",
        {
            "rules": _with_open_flags(retention_selectors.rules()),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def retention_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _administer(request)
    rule = get_object_or_404(RetentionRule, pk=pk)
    fields = ("name", "status", "inactive_months", "action", "grace_days", "is_active")
    form = RetentionRuleForm(request.POST or None, initial={f: getattr(rule, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        try:
            retention_services.rule_update(actor=request.user, rule=rule, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("The retention rule was saved."))
            return redirect("privacy:retention_rules")
    title = _("Retention rule “%(name)s”") % {"name": rule.name}
    return render(
        request,
        "privacy/edit.html",
        {"form": form, "title": title, "back": "privacy:retention_rules"},
        status=400 if form.errors else 200,
    )


def _after(request: HttpRequest) -> int | None:
    raw = request.GET.get("after") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


@login_required
@require_http_methods(["GET", "POST"])
def retention_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The customers a rule matches now (keyset pages), with bulk "erase" and "keep" for the selection."""
    _administer(request)
    rule = get_object_or_404(RetentionRule, pk=pk)
    form = BulkErasureForm(request.POST or None)
    if request.method == "POST":
        ids = [
            int(v) for v in request.POST.getlist("customer") if v.isascii() and v.isdigit() and len(v) < 19
        ]
        # only customers the rule matches (and the user may see) can be acted on from here
        chosen = list(retention_selectors.matching_customers(rule, user=request.user).filter(pk__in=ids))
        if request.POST.get("action") == "keep":
            kept = retention_services.flags_keep(actor=request.user, rule=rule, customers=chosen)
            messages.success(request, _("%(count)d customers are kept.") % {"count": kept})
            return redirect(request.get_full_path())
        if form.is_valid():
            try:
                done = erasure_services.customers_erase(
                    actor=request.user,
                    customers=chosen,
                    reason=form.cleaned_data["reason"],
                    confirmation=form.cleaned_data["confirmation"],
                    rule=rule,
                )
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(request, _("%(count)d customers were erased.") % {"count": len(done)})
                return redirect(request.get_full_path())
    page = retention_selectors.retention_report(
        rule, user=request.user, after=_after(request), limit=REPORT_PAGE
    )
    return render(
        request,
        "privacy/report.html",
        {
            "rule": rule,
            "page": page,
            "form": form,
            "cutoff": retention_selectors.cutoff(rule),
            "selected": set(request.POST.getlist("customer")),
        },
        status=400 if form.errors else 200,
    )
