"""Quote pages (/sales/quotes/): list, create (of an opportunity or a customer), the quote with its inline
line editor (htmx; plain forms work without it), header edit, send, revise, accept/reject, PDF, delete."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError, DomainError
from kith.core.forms import apply_service_errors
from kith.parties.selectors.customers import customer_by_number
from kith.parties.views import is_htmx
from kith.sales import currencies, selectors
from kith.sales.choices import QUOTE, QuoteStatus, StageKind
from kith.sales.models import CloseReason, Quote
from kith.sales.quote_forms import QuoteDecisionForm, QuoteFilterForm, QuoteForm, QuoteLineForm, QuoteSendForm
from kith.sales.selectors import quotes as quote_selectors
from kith.sales.services import quote_pdf
from kith.sales.services import quotes as services
from kith.sales.views._edit import posted_version, save_versioned
from kith.sales.views._lists import list_page
from kith.security.rules import CREATE, DELETE, EDIT, has_permission, require_permission

PRODUCT_OPTIONS = 10


def _conflict_message() -> str:
    return _(
        "Someone else changed this quote after you opened it. Nothing was saved; your input is kept. "
        "Reload the page to see the other change, then apply yours again."
    )


def _detail(quote: Quote) -> HttpResponse:
    return redirect("sales:quote_detail", pk=quote.pk)


def _can(user: Any, quote: Quote | None = None) -> dict[str, bool]:
    draft = quote is not None and quote.status == QuoteStatus.DRAFT
    edit = has_permission(user, QUOTE, EDIT)
    return {
        "create": has_permission(user, QUOTE, CREATE),
        "edit": edit and draft,
        "delete": has_permission(user, QUOTE, DELETE) and draft,
        "send": edit and draft,
        "decide": edit and quote is not None and quote.status == QuoteStatus.SENT,
        "revise": has_permission(user, QUOTE, CREATE)
        and quote is not None
        and quote.status in services.REVISABLE,
    }


# --- list and create ------------------------------------------------------------------------------


@login_required
@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    form = QuoteFilterForm(request.GET or None, owners=quote_selectors.quote_owners(request.user))
    filters: dict[str, Any] = {}
    if form.is_valid():
        owner = form.cleaned_data.get("owner")
        filters = {
            "status": form.cleaned_data.get("status") or "",
            "customer_number": form.cleaned_data.get("customer") or "",
            "opportunity": form.cleaned_data.get("opportunity"),
            "owner": int(owner) if owner else None,
        }
    rows = quote_selectors.quote_list(user=request.user, **filters)
    return render(
        request,
        "sales/quotes/quote_list.html",
        {"form": form, **list_page(request, rows), "can": _can(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def quote_create(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, QUOTE, CREATE)
    source = request.POST if request.method == "POST" else request.GET
    opportunity = None
    raw_opportunity = (source.get("opportunity") or "").strip()
    if raw_opportunity:
        if not raw_opportunity.isdigit():
            raise Http404
        opportunity = quote_selectors.opportunity_for_quote(request.user, int(raw_opportunity))
    initial: dict[str, Any] = {
        "currency": opportunity.currency if opportunity else currencies.default_code(),
        "customer": request.GET.get("customer", ""),
        "opportunity": opportunity.pk if opportunity else None,
    }
    form = QuoteForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        customer = None
        if opportunity is None:
            number = (form.cleaned_data.get("customer") or "").strip()
            if number:
                try:
                    customer = customer_by_number(user=request.user, customer_number=number)
                except Http404:
                    form.add_error("customer", _("No customer you may see has this number."))
            else:
                form.add_error("customer", _("Give the customer's number."))
        if not form.errors:
            data.update(customer=customer, opportunity=opportunity)
            try:
                quote = services.quote_create(actor=request.user, data=data)
            except ValidationError as error:
                apply_service_errors(error, form)
            else:
                messages.success(
                    request, _("The quote %(number)s is started: add its lines.") % {"number": quote.number}
                )
                return _detail(quote)
        status = 400
    return render(
        request, "sales/quotes/quote_form.html", {"form": form, "opportunity": opportunity}, status=status
    )


# --- the quote page and its lines ---------------------------------------------------------------


def _context(request: HttpRequest, quote: Quote, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "quote": quote,
        "lines": list(quote.lines.all()),
        "can": _can(request.user, quote),
        "line_form": QuoteLineForm(initial={"quantity": "1", "version": quote.version}),
        "revisions": quote_selectors.revisions_of(request.user, quote),
        "label": services.quote_label(quote),
        "decision_form": None,
    }
    if quote.status == QuoteStatus.ACCEPTED:
        context["order_url"] = _order_from_quote_url()
    deal = quote.opportunity
    if quote.status == QuoteStatus.SENT and deal is not None and deal.status == StageKind.OPEN:
        context["decision_form"] = QuoteDecisionForm(
            reasons=CloseReason.objects.filter(kind=StageKind.WON, is_active=True),
            initial={"version": quote.version},
        )
    if quote.status == QuoteStatus.DRAFT and quote.lines.exists():
        reasons, covered = services.approval_needed(quote)
        context["approval"] = {"reasons": reasons, "covered": covered}
    context.update(extra)
    return context


def _order_from_quote_url() -> str | None:
    """Where an accepted quote becomes an order (the orders pages), None while they are not installed."""
    try:
        return reverse("sales:order_from_quote")
    except NoReverseMatch:
        return None


def _lines_response(request: HttpRequest, quote: Quote, status: int = 200, **extra: Any) -> HttpResponse:
    fresh = quote_selectors.quote_detail(request.user, quote.pk)
    template = "sales/quotes/_lines.html" if is_htmx(request) else "sales/quotes/quote_detail.html"
    return render(request, template, _context(request, fresh, **extra), status=status)


@login_required
@require_GET
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_selectors.quote_detail(request.user, pk)
    return render(request, "sales/quotes/quote_detail.html", _context(request, quote))


@login_required
@require_GET
def quote_product_search(request: HttpRequest) -> HttpResponse:
    """Options for picking a product by typing the start of its SKU or name (radio buttons)."""
    query = (request.GET.get("product_q") or request.GET.get("q") or "").strip()[:100]
    rows = []
    if query:
        rows = list(selectors.product_list(user=request.user, q=query, active=True)[:PRODUCT_OPTIONS])
    return render(request, "sales/quotes/_product_options.html", {"rows": rows, "query": query})


def _line_action(
    request: HttpRequest,
    quote: Quote,
    form: QuoteLineForm | None,
    action: Callable[[int | None], Any],
    ok: str,
) -> HttpResponse:
    """Run a line change; field errors come back on the line form, a stale version as a conflict."""
    try:
        action(posted_version(request))
    except ValidationError as error:
        status = 200 if is_htmx(request) else 400
        if form is None:
            return _lines_response(request, quote, status=status, problem=" ".join(error.messages))
        apply_service_errors(error, form)
        return _lines_response(request, quote, status=status, line_form=form)
    except ConflictError:
        if is_htmx(request):
            return _lines_response(request, quote, conflict=_conflict_message())
        messages.error(request, _conflict_message())
        return _detail(quote)
    except DomainError as refused:
        if is_htmx(request):
            return _lines_response(request, quote, conflict=refused.message)
        messages.error(request, refused.message)
        return _detail(quote)
    if is_htmx(request):
        return _lines_response(request, quote)
    messages.success(request, ok)
    return _detail(quote)


def _product_of(request: HttpRequest, form: QuoteLineForm) -> Any:
    pk = form.cleaned_data.get("product")
    if not pk:
        return None
    product = selectors.products_for(request.user).filter(pk=pk).first()
    if product is None:
        form.add_error(None, _("Pick the product from the list."))
    return product


@login_required
@require_POST
def quote_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_selectors.quote_for(request.user, pk)
    form = QuoteLineForm(request.POST)
    if not form.is_valid():
        return _lines_response(request, quote, status=200 if is_htmx(request) else 400, line_form=form)
    product = _product_of(request, form)
    if form.errors:
        return _lines_response(request, quote, status=200 if is_htmx(request) else 400, line_form=form)
    data = form.service_data()
    if product is not None:
        data["product"] = product
    return _line_action(
        request,
        quote,
        form,
        lambda v: services.quote_line_add(actor=request.user, quote=quote, data=data, expected_version=v),
        _("The line is added."),
    )


@login_required
@require_POST
def quote_line_update(request: HttpRequest, pk: int, line: int) -> HttpResponse:
    quote = quote_selectors.quote_for(request.user, pk)
    row = quote_selectors.line_of(request.user, quote, line)
    form = QuoteLineForm(request.POST)
    if not form.is_valid():
        problem = " ".join(str(m) for messages_ in form.errors.values() for m in messages_)
        return _lines_response(request, quote, status=200 if is_htmx(request) else 400, problem=problem)
    data = {
        k: v
        for k, v in form.service_data(editing=True).items()
        if k in ("quantity", "unit_price", "discount_percent")
    }
    if "unit_price" not in request.POST or not (request.POST.get("unit_price") or "").strip():
        data.pop("unit_price", None)
    if (request.POST.get("unit_price") or "").strip() == str(row.unit_price):
        data.pop("unit_price", None)  # unchanged: a new quantity may re-read the product's price

    def change(version: int | None) -> Any:
        try:
            return services.quote_line_update(
                actor=request.user, line=row, data=data, expected_version=version
            )
        except ValidationError as error:
            prefix = _("Line %(n)d:") % {"n": row.position}
            raise ValidationError([f"{prefix} {m}" for m in error.messages]) from error

    return _line_action(request, quote, None, change, _("The line is saved."))


@login_required
@require_POST
def quote_line_remove(request: HttpRequest, pk: int, line: int) -> HttpResponse:
    quote = quote_selectors.quote_for(request.user, pk)
    row = quote_selectors.line_of(request.user, quote, line)
    return _line_action(
        request,
        quote,
        None,
        lambda v: services.quote_line_remove(actor=request.user, line=row, expected_version=v),
        _("The line is removed."),
    )


@login_required
@require_POST
def quote_line_move(request: HttpRequest, pk: int, line: int) -> HttpResponse:
    """Move a line one place up or down (``direction``)."""
    quote = quote_selectors.quote_for(request.user, pk)
    row = quote_selectors.line_of(request.user, quote, line)
    order = list(quote.lines.order_by("position", "pk").values_list("pk", flat=True))
    index = order.index(row.pk)
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    return _line_action(
        request,
        quote,
        None,
        lambda v: services.quote_lines_reorder(
            actor=request.user, quote=quote, order=order, expected_version=v
        ),
        _("The lines are reordered."),
    )


# --- header, delete ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_selectors.quote_for(request.user, pk)
    require_permission(request.user, QUOTE, EDIT)
    initial = {
        "currency": quote.currency,
        "price_list": quote.price_list_id,
        "valid_until": quote.valid_until,
        "terms": quote.terms,
        "version": quote.version,
    }
    form = QuoteForm(request.POST or None, initial=initial, editing=True)
    return save_versioned(
        request,
        form,
        functools.partial(services.quote_update, actor=request.user, quote=quote),
        template="sales/quotes/quote_form.html",
        context={"form": form, "quote": quote},
        saved=_("The quote is saved."),
        then=reverse("sales:quote_detail", args=[quote.pk]),
        conflict=_conflict_message(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def quote_delete(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_selectors.quote_for(request.user, pk)
    require_permission(request.user, QUOTE, DELETE)
    if request.method == "POST":
        try:
            services.quote_delete(actor=request.user, quote=quote)
        except DomainError as refused:
            messages.error(request, refused.message)
            return _detail(quote)
        messages.success(request, _("The quote %(number)s is deleted.") % {"number": quote.number})
        return redirect("sales:quote_list")
    return render(
        request,
        "sales/confirm_delete.html",
        {"object": quote, "cancel_url": reverse("sales:quote_detail", args=[quote.pk])},
    )


# --- send, revise, decide, PDF ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_selectors.quote_detail(request.user, pk)
    require_permission(request.user, QUOTE, EDIT)
    form = QuoteSendForm(
        request.POST or None, initial={"to": services.default_recipient(quote), "version": quote.version}
    )
    context: dict[str, Any] = {"form": form, "quote": quote, "label": services.quote_label(quote)}
    if quote.status == QuoteStatus.DRAFT and quote.lines.exists():
        reasons, covered = services.approval_needed(quote)
        context["approval"] = {"reasons": reasons, "covered": covered}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_send(
                actor=request.user,
                quote=quote,
                to=form.cleaned_data.get("to") or "",
                message=form.cleaned_data.get("message") or "",
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            apply_service_errors(error, form)
            status = 400
        except services.ApprovalRequired as refused:
            form.add_error(None, refused.message)
            context["refused"] = refused
            status = 409
        except ConflictError:
            form.add_error(None, _conflict_message())
            status = 409
        except DomainError as refused:
            form.add_error(None, refused.message)
            status = 409
        else:
            messages.success(request, _("The quote is sent to %(to)s.") % {"to": quote.sent_to})
            return _detail(quote)
    elif form.errors:
        status = 400
    return render(request, "sales/quotes/quote_send.html", context, status=status)


def _simple(
    request: HttpRequest, pk: int, action: Callable[[Quote, int | None], Quote], ok: Callable[[Quote], str]
) -> HttpResponse:
    quote = quote_selectors.quote_for(request.user, pk)
    try:
        result = action(quote, posted_version(request))
    except ConflictError:
        messages.error(request, _conflict_message())
        return _detail(quote)
    except DomainError as refused:
        messages.error(request, refused.message)
        return _detail(quote)
    messages.success(request, ok(result))
    return _detail(result)


@login_required
@require_POST
def quote_revise(request: HttpRequest, pk: int) -> HttpResponse:
    return _simple(
        request,
        pk,
        lambda q, v: services.quote_revise(actor=request.user, quote=q, expected_version=v),
        lambda new: (
            _("Revision %(revision)d is a new draft: change it and send it again.")
            % {"revision": new.revision}
        ),
    )


@login_required
@require_POST
def quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    reasons = CloseReason.objects.filter(kind=StageKind.WON, is_active=True)
    form = QuoteDecisionForm(request.POST, reasons=reasons)
    reason = form.cleaned_data.get("close_reason") if form.is_valid() else None

    def accept(quote: Quote, version: int | None) -> Quote:
        return services.quote_accept(
            actor=request.user, quote=quote, expected_version=version, close_reason=reason
        )

    def said(quote: Quote) -> str:
        note = getattr(quote, "deal_not_won", "")
        if note:
            text = _("The quote is accepted; the opportunity is still open: %(why)s") % {"why": note}
        else:
            text = _("The quote is accepted.")
        amount_note = getattr(quote, "deal_amount_not_updated", "")
        if amount_note:
            text += " " + _("The opportunity's amount is unchanged: %(why)s") % {"why": amount_note}
        superseded = getattr(quote, "superseded", [])
        if superseded:
            text += " " + _("Superseded: %(numbers)s.") % {"numbers": ", ".join(superseded)}
        return text

    return _simple(request, pk, accept, said)


@login_required
@require_POST
def quote_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _simple(
        request,
        pk,
        lambda q, v: services.quote_reject(actor=request.user, quote=q, expected_version=v),
        lambda q: _("The quote is marked rejected."),
    )


@login_required
@require_GET
def quote_pdf_download(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_selectors.quote_detail(request.user, pk)
    response = HttpResponse(quote_pdf.render_quote_pdf(quote), content_type="application/pdf")
    disposition = "inline" if request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{services.pdf_filename(quote)}"'
    return response
