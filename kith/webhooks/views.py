"""Webhook pages (/webhooks/): the list, create and edit, one webhook with its recent deliveries (polled by
htmx while some are pending), and its actions: test event, enable, rotate secret, redeliver, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.forms import apply_service_errors
from kith.webhooks import events, selectors, services
from kith.webhooks.choices import DeliveryStatus
from kith.webhooks.forms import WebhookForm
from kith.webhooks.models import Webhook, WebhookDelivery
from kith.webhooks.services.webhooks import require_admin


def _labels(webhook: Webhook) -> list[str]:
    return [events.label_of(code) if code != "*" else _("every event") for code in webhook.event_types]


def _form_data(form: WebhookForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    if data.get("owner") is None:
        data.pop("owner", None)
    return data


@login_required
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    webhooks = list(selectors.webhooks_for(request.user))
    for webhook in webhooks:
        webhook.labels = _labels(webhook)  # type: ignore[attr-defined]
    return render(request, "webhooks/webhook_list.html", {"webhooks": webhooks})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = WebhookForm(request.POST or None, superuser=request.user.is_superuser)
    if request.method == "POST" and form.is_valid():
        try:
            webhook, secret = services.webhook_create(actor=request.user, data=_form_data(form))
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            return render(
                request, "webhooks/secret.html", {"webhook": webhook, "secret": secret, "new": True}
            )
    return render(request, "webhooks/webhook_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, pk)
    initial = {
        "name": webhook.name,
        "url": webhook.url,
        "event_types": webhook.event_types,
        "owner": webhook.owner_id,
        "active": webhook.active,
    }
    form = WebhookForm(
        request.POST or None, initial=initial, superuser=request.user.is_superuser, editing=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(actor=request.user, webhook=webhook, data=_form_data(form))
        except ValidationError as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("The webhook “%(name)s” is saved.") % {"name": webhook.name})
            return redirect("webhooks:detail", pk=webhook.pk)
    return render(
        request,
        "webhooks/webhook_form.html",
        {"form": form, "webhook": webhook},
        status=400 if form.errors else 200,
    )


def _detail_context(request: HttpRequest, webhook: Webhook) -> dict[str, Any]:
    deliveries = selectors.deliveries_of(request.user, webhook)
    return {
        "webhook": webhook,
        "labels": _labels(webhook),
        "previous_secret_until": webhook.previous_secret_accepted_until(),
        "deliveries": deliveries,
        "polling": any(d.status == DeliveryStatus.PENDING for d in deliveries),
    }


@login_required
@require_GET
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, pk)
    return render(request, "webhooks/webhook_detail.html", _detail_context(request, webhook))


@login_required
@require_GET
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    """The deliveries panel, polled by htmx while some are pending."""
    webhook = selectors.webhook_for(request.user, pk)
    return render(request, "webhooks/_deliveries.html", _detail_context(request, webhook))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, pk)
    if request.method == "POST":
        services.webhook_delete(actor=request.user, webhook=webhook)
        messages.success(request, _("The webhook “%(name)s” is deleted.") % {"name": webhook.name})
        return redirect("webhooks:list")
    return render(request, "webhooks/webhook_delete.html", {"webhook": webhook})


def _say_outcome(request: HttpRequest, row: WebhookDelivery) -> None:
    if row.status == DeliveryStatus.SUCCEEDED:
        messages.success(
            request,
            _("The receiver accepted the test event (HTTP %(code)s, %(ms)s ms).")
            % {"code": row.last_response_code, "ms": row.duration_ms},
        )
    else:
        messages.error(request, _("The test event failed: %(error)s") % {"error": row.last_error})


@login_required
@require_POST
def webhook_ping(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, pk)
    _say_outcome(request, services.webhook_ping(actor=request.user, webhook=webhook))
    return redirect("webhooks:detail", pk=webhook.pk)


@login_required
@require_POST
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, pk)
    services.webhook_enable(actor=request.user, webhook=webhook)
    messages.success(request, _("The webhook is active again; its failures are forgotten."))
    return redirect("webhooks:detail", pk=webhook.pk)


@login_required
@require_POST
def webhook_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, pk)
    webhook, secret = services.webhook_rotate_secret(actor=request.user, webhook=webhook)
    return render(
        request,
        "webhooks/secret.html",
        {
            "webhook": webhook,
            "secret": secret,
            "new": False,
            "previous_secret_until": webhook.previous_secret_accepted_until(),
        },
    )


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int, delivery: Any) -> HttpResponse:
    webhook = selectors.webhook_for(request.user, pk)
    row = selectors.delivery_for(request.user, webhook, delivery)
    try:
        services.delivery_redeliver(actor=request.user, delivery_row=row)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The event is queued to be sent again."))
    return redirect("webhooks:detail", pk=webhook.pk)
