"""REST API of webhooks (``("webhook", "administer")`` for everything; token area ``webhooks``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, validated
from kith.webhooks import events, selectors, services
from kith.webhooks.api import serializers as s
from kith.webhooks.choices import DeliveryStatus
from kith.webhooks.models import Webhook
from kith.webhooks.services.webhooks import require_admin

MAX_LIMIT = 200


def _webhook(webhook: Webhook, secret: str | None = None) -> dict[str, Any]:
    data = dict(s.WebhookSerializer(webhook).data)
    if secret is not None:
        data["secret"] = secret
    return data


def _input(data: dict[str, Any]) -> dict[str, Any]:
    """The owner's user name as the account (an unknown name is a field error)."""
    if "owner" in data:
        owner = get_user_model().objects.filter(username=data["owner"]).first()
        if owner is None:
            raise field_error("owner", _("There is no account with this user name."))
        data["owner"] = owner
    return data


class _AdminView(KithAPIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        require_admin(request.user)


class WebhookListView(_AdminView):
    idempotent_posts = False  # the answer holds the secret: it is not stored for replays

    @extend_schema(
        operation_id="webhooks_list",
        summary="Every webhook",
        responses={200: s.WebhookSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response([_webhook(w) for w in selectors.webhooks_for(request.user)])

    @extend_schema(
        operation_id="webhooks_create",
        summary="Create a webhook; the answer holds its signing secret, shown only this once",
        request=s.WebhookInputSerializer,
        responses={201: s.WebhookWithSecretSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = _input(validated(s.WebhookInputSerializer, request.data))
        webhook, secret = services.webhook_create(actor=request.user, data=data)
        return Response(_webhook(webhook, secret), status=status.HTTP_201_CREATED)


class WebhookDetailView(_AdminView):
    @extend_schema(
        operation_id="webhooks_retrieve",
        responses={200: s.WebhookSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_webhook(selectors.webhook_for(request.user, pk)))

    @extend_schema(
        operation_id="webhooks_partial_update",
        summary="Change a webhook (setting active to true also forgets its failures)",
        request=s.WebhookUpdateSerializer,
        responses={200: s.WebhookSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        webhook = selectors.webhook_for(request.user, pk)
        data = _input(validated(s.WebhookUpdateSerializer, request.data))
        return Response(_webhook(services.webhook_update(actor=request.user, webhook=webhook, data=data)))

    @extend_schema(operation_id="webhooks_destroy", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        services.webhook_delete(actor=request.user, webhook=selectors.webhook_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(_AdminView):
    @extend_schema(
        operation_id="webhooks_deliveries",
        summary="A webhook's deliveries, newest first (bodies are not shown: they are what its owner sees)",
        parameters=[
            OpenApiParameter("status", str, enum=DeliveryStatus.values),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
            OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}, default 50"),
        ],
        responses={200: s.DeliveryPageSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        webhook = selectors.webhook_for(request.user, pk)
        wanted = request.query_params.get("status") or ""
        if wanted and wanted not in DeliveryStatus.values:
            raise field_error("status", _("Unknown status."))
        raw_limit = request.query_params.get("limit") or "50"
        if not raw_limit.isascii() or not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise field_error("limit", _("Enter a whole number from 1 to %(max)d.") % {"max": MAX_LIMIT})
        cursor = request.query_params.get("cursor") or ""
        if cursor and (not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18):
            raise field_error("cursor", _("This cursor is not valid."))
        limit = int(raw_limit)
        rows = selectors.deliveries_of(
            request.user, webhook, status=wanted, before=int(cursor) if cursor else None, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return Response(
            {
                "results": [dict(s.DeliverySerializer(row).data) for row in rows],
                "next_cursor": str(rows[-1].pk) if more and rows else None,
            }
        )


class DeliveryRedeliverView(_AdminView):
    @extend_schema(
        operation_id="webhooks_redeliver",
        summary="Send a finished delivery's event again (same event id and body) as a new delivery",
        request=None,
        responses={202: s.DeliverySerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int, delivery: Any) -> Response:
        webhook = selectors.webhook_for(request.user, pk)
        row = selectors.delivery_for(request.user, webhook, delivery)
        copy = services.delivery_redeliver(actor=request.user, delivery_row=row)
        return Response(dict(s.DeliverySerializer(copy).data), status=status.HTTP_202_ACCEPTED)


class WebhookPingView(_AdminView):
    @extend_schema(
        operation_id="webhooks_ping",
        summary="Send a test event now and answer with the delivery (also to a disabled webhook)",
        request=None,
        responses={200: s.DeliverySerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        webhook = selectors.webhook_for(request.user, pk)
        row = services.webhook_ping(actor=request.user, webhook=webhook)
        return Response(dict(s.DeliverySerializer(row).data))


class WebhookEnableView(_AdminView):
    @extend_schema(
        operation_id="webhooks_enable",
        summary="Enable a webhook again, forgetting its failures",
        request=None,
        responses={200: s.WebhookSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        webhook = selectors.webhook_for(request.user, pk)
        return Response(_webhook(services.webhook_enable(actor=request.user, webhook=webhook)))


class WebhookRotateSecretView(_AdminView):
    idempotent_posts = False  # the answer holds the secret

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary=(
            "A new signing secret, in force at once (the previous one also signs events for"
            " KITH_WEBHOOK_SECRET_GRACE_SECONDS); the answer holds it, shown only this once"
        ),
        request=None,
        responses={200: s.WebhookWithSecretSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        webhook = selectors.webhook_for(request.user, pk)
        webhook, secret = services.webhook_rotate_secret(actor=request.user, webhook=webhook)
        return Response(_webhook(webhook, secret))


class EventTypeListView(_AdminView):
    @extend_schema(
        operation_id="webhooks_event_types",
        summary="The event types a webhook can subscribe to",
        responses={
            200: inline_serializer("WebhookEventTypeList", {"results": s.EventTypeSerializer(many=True)}),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        return Response({"results": [{"code": t.code, "label": str(t.label)} for t in events.event_types()]})
