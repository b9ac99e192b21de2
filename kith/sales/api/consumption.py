"""REST API of consumption lines and their statistics (token area ``sales``): push lines (one, or a batch
that is idempotent by invoice and line number), list a customer's lines, the statistics of a customer or a
group."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, StrictSerializer, error_responses, field_error, validated
from kith.parties.selectors.customers import customer_by_number
from kith.sales.api.params import MAX_LIMIT, whole
from kith.sales.models import ConsumptionKind, ConsumptionLine, ConsumptionSource
from kith.sales.selectors import consumption as selectors
from kith.sales.services import consumption as services

MAX_LINES = 1000  # per request


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=None, **kwargs)  # type: ignore[arg-type]


# --- input -------------------------------------------------------------------------------------------


class ConsumptionLineInputSerializer(StrictSerializer):
    """One line. Numbers are best sent as strings ("2.55"): a JSON number may lose decimals on the way."""

    customer = serializers.CharField(help_text="Customer number")
    occurred_on = serializers.CharField(help_text="Invoice or usage date, YYYY-MM-DD")
    period_start = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    period_end = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    product = serializers.IntegerField(required=False, allow_null=True, help_text="Product id")
    sku = serializers.CharField(required=False, allow_blank=True, help_text="Code as given")
    description = serializers.CharField(required=False, allow_blank=True)
    quantity = serializers.CharField(help_text="Up to 3 decimals; negative for a return or cancellation")
    unit_price = serializers.CharField(help_text="At least 0, up to 4 decimals")
    currency = serializers.CharField(
        required=False, allow_blank=True, help_text="ISO 4217; default the product's"
    )
    kind = serializers.ChoiceField(choices=ConsumptionKind.choices, required=False, allow_blank=True)
    reference = serializers.CharField(required=False, allow_blank=True, help_text="Invoice number")
    line_number = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class ConsumptionBatchInputSerializer(StrictSerializer):
    reference = serializers.CharField(
        required=False, allow_blank=True, help_text="Invoice number of the lines that name none"
    )
    lines = serializers.ListField(child=ConsumptionLineInputSerializer(), min_length=1, max_length=MAX_LINES)


# --- output ------------------------------------------------------------------------------------------


class ConsumptionLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.CharField(source="customer.customer_number")
    occurred_on = serializers.DateField()
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    product = serializers.IntegerField(source="product_id", allow_null=True)
    sku = serializers.CharField()
    description = serializers.CharField()
    quantity = _money()
    unit_price = _money()
    amount = _money()
    currency = serializers.CharField()
    kind = serializers.ChoiceField(choices=ConsumptionKind.choices)
    source = serializers.ChoiceField(choices=ConsumptionSource.choices)  # type: ignore[assignment]
    reference = serializers.CharField()
    line_number = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class ConsumptionPushResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Lines recorded now")
    existing = serializers.IntegerField(help_text="Lines already recorded with the same values (not again)")
    results = ConsumptionLineSerializer(many=True)


class ConsumptionPageSerializer(serializers.Serializer):
    results = ConsumptionLineSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class ConsumptionFiguresSerializer(serializers.Serializer):
    revenue = _money()
    purchases = _money()
    returns = _money()
    other_charges = _money()
    quantity = _money()
    lines = serializers.IntegerField()


class ConsumptionChangeSerializer(serializers.Serializer):
    absolute = _money()
    percent = _money(allow_null=True)


class ConsumptionChangesSerializer(serializers.Serializer):
    revenue = ConsumptionChangeSerializer()
    other_charges = ConsumptionChangeSerializer()
    quantity = ConsumptionChangeSerializer()
    lines = ConsumptionChangeSerializer()


class ConsumptionTotalSerializer(ConsumptionFiguresSerializer):
    currency = serializers.CharField()
    previous = ConsumptionFiguresSerializer()
    change = ConsumptionChangesSerializer()


class ConsumptionCellSerializer(serializers.Serializer):
    current = ConsumptionFiguresSerializer()
    previous = ConsumptionFiguresSerializer()


class ConsumptionBucketSerializer(serializers.Serializer):
    start = serializers.DateField()
    previous_start = serializers.DateField(allow_null=True)
    currencies = serializers.DictField(child=ConsumptionCellSerializer())


class ConsumptionTopSerializer(serializers.Serializer):
    sku = serializers.CharField()
    description = serializers.CharField()
    product_id = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    amount = _money()
    quantity = _money()
    lines = serializers.IntegerField()


class ConsumptionFrequencySerializer(serializers.Serializer):
    customers = serializers.IntegerField()
    purchase_days = serializers.IntegerField()
    invoices = serializers.IntegerField()
    first = serializers.DateField(allow_null=True)
    last = serializers.DateField(allow_null=True)
    average_days_between = _money(allow_null=True)


class ConsumptionPriceRangeSerializer(serializers.Serializer):
    sku = serializers.CharField()
    description = serializers.CharField()
    currency = serializers.CharField()
    lines = serializers.IntegerField()
    min = _money()
    p25 = _money()
    median = _money()
    p75 = _money()
    max = _money()


class ConsumptionStatsSerializer(serializers.Serializer):
    customer = serializers.CharField(allow_null=True, help_text="The customer's number (null for a group)")
    period = serializers.ChoiceField(choices=[(p, p) for p in selectors.PERIODS])
    date_from = serializers.DateField(source="from")
    date_to = serializers.DateField(source="to")
    previous_from = serializers.DateField()
    previous_to = serializers.DateField()
    currencies = serializers.ListField(child=serializers.CharField())
    totals = ConsumptionTotalSerializer(many=True)
    buckets = ConsumptionBucketSerializer(many=True)
    top_by_amount = ConsumptionTopSerializer(many=True)
    top_by_quantity = ConsumptionTopSerializer(many=True)
    frequency = ConsumptionFrequencySerializer()
    price_ranges = ConsumptionPriceRangeSerializer(many=True)


# --- views -------------------------------------------------------------------------------------------


def _line_data(line: ConsumptionLine) -> dict[str, Any]:
    return dict(ConsumptionLineSerializer(line).data)


def _encode(line: ConsumptionLine) -> str:
    return base64.urlsafe_b64encode(f"{line.occurred_on.isoformat()}|{line.pk}".encode()).decode()


def _decode(cursor: str) -> tuple[dt.date, int]:
    try:
        day, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return dt.date.fromisoformat(day), int(pk)
    except (ValueError, UnicodeDecodeError):
        raise field_error("cursor", _("This cursor is not one the list gave.")) from None


def _customer(request: Request) -> Any:
    number = (request.query_params.get("customer") or "").strip()
    if not number:
        raise field_error("customer", _("Give the customer number."))
    try:
        return customer_by_number(user=request.user, customer_number=number)
    except Http404:
        raise field_error("customer", _("No customer you may see has this number.")) from None


_PUSH = PolymorphicProxySerializer(
    component_name="ConsumptionPush",
    serializers=[ConsumptionLineInputSerializer, ConsumptionBatchInputSerializer],
    resource_type_field_name=None,
)


class ConsumptionListView(KithAPIView):
    @extend_schema(
        operation_id="consumption_list",
        summary="A customer's consumption lines, newest first (cursor pagination)",
        parameters=[
            OpenApiParameter("customer", str, required=True, description="Customer number"),
            OpenApiParameter("from", str, description="YYYY-MM-DD"),
            OpenApiParameter("to", str, description="YYYY-MM-DD"),
            OpenApiParameter("kind", str, enum=ConsumptionKind.values),
            OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}, default 50"),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
        ],
        responses={200: ConsumptionPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        customer = _customer(request)
        rows = selectors.lines_of(user=request.user, customer=customer)
        for name, lookup in (("from", "occurred_on__gte"), ("to", "occurred_on__lte")):
            if params.get(name):
                try:
                    rows = rows.filter(**{lookup: dt.date.fromisoformat(params[name])})
                except ValueError:
                    raise field_error(name, _("Enter a valid date (YYYY-MM-DD).")) from None
        kind = params.get("kind") or ""
        if kind:
            if kind not in ConsumptionKind.values:
                raise field_error(
                    "kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(ConsumptionKind.values)}
                )
            rows = rows.filter(kind=kind)
        limit = whole(request, "limit", 50, 1, MAX_LIMIT)
        if params.get("cursor"):
            day, pk = _decode(params["cursor"])
            rows = rows.filter(Q(occurred_on__lt=day) | Q(occurred_on=day, id__lt=pk))
        page = list(rows.select_related("customer")[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        return Response(
            {
                "results": [_line_data(line) for line in page],
                "next_cursor": _encode(page[-1]) if more and page else None,
            }
        )

    @extend_schema(
        operation_id="consumption_push",
        summary="Record one line, or a batch of lines (all or none; idempotent by reference and line number)",
        request=_PUSH,
        responses={
            201: ConsumptionPushResultSerializer,
            200: ConsumptionPushResultSerializer,
            **error_responses(400, 401, 403),
        },
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if isinstance(body, dict) and "lines" in body:
            data = validated(ConsumptionBatchInputSerializer, body)
            result = services.consumption_add_many(
                actor=request.user,
                rows=[dict(row) for row in data["lines"]],
                reference=data.get("reference") or "",
                source=ConsumptionSource.API,
            )
            created, existing = result.created, result.existing
        else:
            data = validated(ConsumptionLineInputSerializer, body)
            line, new = services.consumption_record(
                actor=request.user, data=data, source=ConsumptionSource.API
            )
            created, existing = ([line], []) if new else ([], [line])
        return Response(
            {
                "created": len(created),
                "existing": len(existing),
                "results": [_line_data(line) for line in [*created, *existing]],
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ConsumptionLineView(KithAPIView):
    @extend_schema(
        operation_id="consumption_retrieve",
        responses={200: ConsumptionLineSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_line_data(selectors.line_for(user=request.user, pk=pk)))

    @extend_schema(
        operation_id="consumption_destroy", responses={204: None, **error_responses(401, 403, 404)}
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.consumption_delete(actor=request.user, line=selectors.line_for(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConsumptionStatsView(KithAPIView):
    @extend_schema(
        operation_id="consumption_stats",
        summary="Consumption statistics of one customer or a group of customers (the statistics page's figures)",
        parameters=[
            OpenApiParameter("customer", str, description="Customer number (or a group below)"),
            OpenApiParameter("category", int, description="Category id; the categories below it included"),
            OpenApiParameter("tag", str),
            OpenApiParameter("role", int, description="Customer role id"),
            OpenApiParameter("owner", int, description="Owner (user id)"),
            OpenApiParameter("subordinates", bool, description="With the owner's reports (default true)"),
            OpenApiParameter("period", str, enum=list(selectors.PERIODS), description="Default month"),
            OpenApiParameter("from", str, description="YYYY-MM-DD; default twelve months back"),
            OpenApiParameter("to", str, description="YYYY-MM-DD; default today"),
        ],
        responses={200: ConsumptionStatsSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = selectors.StatsQuery.from_params(request.query_params)
        if not query.names_someone:
            raise field_error(
                "customer", _("Give a customer number or a group (category, tag, role or owner).")
            )
        scope = selectors.consumption_scope(user=request.user, query=query)
        stats = selectors.consumption_stats(scope=scope, query=query)
        stats["customer"] = scope.customer.customer_number if scope.customer is not None else None
        return Response(dict(ConsumptionStatsSerializer(stats).data))
