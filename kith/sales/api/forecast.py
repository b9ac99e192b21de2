"""REST API of the forecast, the funnel, the leaderboard and sales targets (token area ``sales``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, StrictSerializer, error_responses, field_error, validated
from kith.sales import currencies
from kith.sales.api.params import PAGING, optional_id, page_of
from kith.sales.choices import OPPORTUNITY
from kith.sales.forecast_forms import LONGEST_PERIOD, default_currency
from kith.sales.models import Pipeline
from kith.sales.models.targets import SalesTarget
from kith.sales.selectors import forecast as selectors
from kith.sales.services import targets as services
from kith.security.rules import VIEW, require_permission


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True, **kwargs)


def _percent() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=7, decimal_places=1, coerce_to_string=True, allow_null=True)


# --- output (documentation and shaping) ------------------------------------------------------------------
class UnconvertedSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amounts = serializers.DictField(
        child=_money(),
        help_text=gettext_lazy("Per figure (won, open_pipeline, weighted_pipeline, target, members_target)."),
    )


class ForecastSerializer(serializers.Serializer):
    subject_kind = serializers.ChoiceField(choices=["user", "team"])
    subject_id = serializers.IntegerField()
    subject = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    currency = serializers.CharField()
    today = serializers.DateField()
    rate_date = serializers.DateField(help_text=gettext_lazy("The day whose exchange rates are used."))
    target = _money(allow_null=True)
    members_target = _money(allow_null=True, help_text=gettext_lazy("A team: its members' own targets."))
    won = _money()
    won_count = serializers.IntegerField()
    open_pipeline = _money()
    open_count = serializers.IntegerField()
    weighted_pipeline = _money()
    forecast = _money()
    elapsed_share = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)
    run_rate = _money(allow_null=True)
    gap_to_target = _money(allow_null=True)
    run_rate_gap = _money(allow_null=True)
    attainment = _percent()
    unconverted = UnconvertedSerializer(many=True)


class FunnelStageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    entered = serializers.IntegerField()
    advanced = serializers.IntegerField(allow_null=True)
    conversion = _percent()
    left = serializers.IntegerField()
    average_seconds = serializers.IntegerField(allow_null=True)
    median_seconds = serializers.IntegerField(allow_null=True)


class FunnelSerializer(serializers.Serializer):
    pipeline_id = serializers.IntegerField()
    pipeline = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    stages = FunnelStageSerializer(many=True)
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = _percent()
    overall = _percent()


class LeaderRowSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    won = _money()
    won_count = serializers.IntegerField()
    lost_count = serializers.IntegerField()
    win_rate = _percent()
    open_pipeline = _money()
    open_count = serializers.IntegerField()
    target = _money(allow_null=True)
    attainment = _percent()
    missing_rates = serializers.ListField(child=serializers.CharField())


class LeaderboardSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    currency = serializers.CharField()
    rate_date = serializers.DateField()
    missing_rates = serializers.ListField(child=serializers.CharField())
    results = LeaderRowSerializer(many=True)


class TargetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id", allow_null=True)
    team = serializers.IntegerField(source="team_id", allow_null=True)
    subject = serializers.SerializerMethodField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    amount = _money()
    currency = serializers.CharField()
    note = serializers.CharField()
    version = serializers.IntegerField(
        help_text=gettext_lazy("Send it back as expected_version to detect concurrent edits.")
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_subject(self, target: SalesTarget) -> str:
        return str(target.user or target.team)


class TargetPageSerializer(serializers.Serializer):
    results = TargetSerializer(many=True)
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


# Inputs are loose (strings are fine): the service checks every field and answers with all the errors.
class TargetInputSerializer(StrictSerializer):
    user = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy("A user id."))
    team = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy("A team id."))
    period_start = serializers.CharField(max_length=40, allow_blank=True, help_text="YYYY-MM-DD")
    period_end = serializers.CharField(max_length=40, allow_blank=True, help_text="YYYY-MM-DD")
    amount = serializers.CharField(
        max_length=40, allow_blank=True, help_text=gettext_lazy('A decimal string: "5000.00".')
    )
    currency = serializers.CharField(max_length=10, allow_blank=True)
    note = serializers.CharField(max_length=600, allow_blank=True, required=False)


class TargetUpdateSerializer(StrictSerializer):
    period_start = serializers.CharField(max_length=40, allow_blank=True, required=False)
    period_end = serializers.CharField(max_length=40, allow_blank=True, required=False)
    amount = serializers.CharField(max_length=40, allow_blank=True, required=False)
    currency = serializers.CharField(max_length=10, allow_blank=True, required=False)
    note = serializers.CharField(max_length=600, allow_blank=True, required=False)
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=gettext_lazy("The version you loaded; another save since then is a 409."),
    )


# --- query parameters -----------------------------------------------------------------------------------
PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period", str, enum=list(selectors.PERIODS), description="This month (default), quarter or year"
    ),
    OpenApiParameter("date_from", str, description="First day (YYYY-MM-DD); with date_to instead of period"),
    OpenApiParameter("date_to", str, description="Last day (YYYY-MM-DD), included"),
]
CURRENCY_PARAMETER = OpenApiParameter(
    "currency", str, description="ISO 4217 code to report in; default KITH_DEFAULT_CURRENCY (else EUR)"
)


def _day(request: Request, name: str) -> dt.date | None:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = parse_date(raw)
    except ValueError:
        day = None
    if day is None:
        raise field_error(name, _("Enter a date as YYYY-MM-DD."))
    return day


def _period(request: Request) -> tuple[dt.date, dt.date]:
    kind = (request.query_params.get("period") or "").strip()
    start, end = _day(request, "date_from"), _day(request, "date_to")
    if kind and (start or end):
        raise field_error("period", _("Give either a period or dates, not both."))
    if kind:
        if kind not in selectors.PERIODS:
            raise field_error("period", _("Use one of: %(kinds)s.") % {"kinds": ", ".join(selectors.PERIODS)})
        return selectors.period_of(kind)
    if start is None and end is None:
        return selectors.period_of("month")
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["date_from"] = [_("Give the first day of the period.")]
    if end is None:
        errors["date_to"] = [_("Give the last day of the period.")]
    if start and end and end < start:
        errors["date_to"] = [_("The period ends before it starts.")]
    elif start and end and (end - start).days >= LONGEST_PERIOD:
        errors["date_to"] = [_("A period covers at most ten years.")]
    if errors:
        from rest_framework.exceptions import ValidationError

        raise ValidationError(errors)
    assert start is not None and end is not None
    return start, end


def _currency(request: Request) -> str:
    raw = request.query_params.get("currency")
    if raw in (None, ""):
        return default_currency()
    errors: dict[str, list[str]] = {}
    code = currencies.clean_code(raw, "currency", errors)
    if errors:
        raise field_error("currency", errors["currency"][0])
    return code


def _target(target: SalesTarget) -> dict[str, Any]:
    return dict(TargetSerializer(target).data)


# --- views ----------------------------------------------------------------------------------------------
class ForecastView(KithAPIView):
    @extend_schema(
        operation_id="forecast_retrieve",
        summary="Target, won so far, weighted pipeline, forecast and run-rate of a person or team",
        parameters=[
            OpenApiParameter("user", int, description="A person in your reach; default yourself"),
            OpenApiParameter("team", int, description="A team in your reach (with the teams below it)"),
            *PERIOD_PARAMETERS,
            CURRENCY_PARAMETER,
        ],
        responses={200: ForecastSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        user_id, team_id = optional_id(request, "user"), optional_id(request, "team")
        if user_id is not None and team_id is not None:
            raise field_error("team", _("Ask about a person or a team, not both."))
        date_from, date_to = _period(request)
        currency = _currency(request)
        try:
            result = selectors.forecast(
                user=request.user,
                subject_user=user_id,
                subject_team=team_id,
                date_from=date_from,
                date_to=date_to,
                currency=currency,
            )
        except Http404:
            name = "team" if team_id is not None else "user"
            raise field_error(name, _("Nobody in your reach has this id.")) from None
        data: dict[str, Any] = {
            str(name): getattr(result, str(name))
            for name in ForecastSerializer().fields
            if name not in ("subject_kind", "subject_id", "subject", "unconverted")
        }
        data |= {
            "subject_kind": result.subject.kind,
            "subject_id": result.subject.pk,
            "subject": result.subject.label,
            "unconverted": [{"currency": u.currency, "amounts": u.amounts} for u in result.unconverted],
        }
        return Response(dict(ForecastSerializer(data).data))


class FunnelView(KithAPIView):
    @extend_schema(
        operation_id="funnel_retrieve",
        summary="Per stage of a pipeline: deals entered in the period, conversion to a further stage, time in stage",
        parameters=[
            OpenApiParameter("pipeline", int, description="Default: the default pipeline"),
            *PERIOD_PARAMETERS,
        ],
        responses={200: FunnelSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        require_permission(request.user, OPPORTUNITY, VIEW)
        key = optional_id(request, "pipeline")
        date_from, date_to = _period(request)
        pipelines = Pipeline.objects.order_by("-is_default", "name", "id")
        pipeline = pipelines.filter(pk=key).first() if key is not None else pipelines.first()
        if pipeline is None:
            raise field_error("pipeline", _("No such pipeline."))
        result = selectors.funnel(user=request.user, pipeline=pipeline, date_from=date_from, date_to=date_to)
        data = {
            "pipeline_id": pipeline.pk,
            "pipeline": pipeline.name,
            "date_from": date_from,
            "date_to": date_to,
            "stages": [
                {
                    "stage_id": row.stage.pk,
                    "name": row.stage.name,
                    "kind": row.stage.kind,
                    "entered": row.entered,
                    "advanced": row.advanced,
                    "conversion": row.conversion,
                    "left": row.left,
                    "average_seconds": row.average_seconds,
                    "median_seconds": row.median_seconds,
                }
                for row in result.stages
            ],
            "won": result.won,
            "lost": result.lost,
            "win_rate": result.win_rate,
            "overall": result.overall,
        }
        return Response(dict(FunnelSerializer(data).data))


class LeaderboardView(KithAPIView):
    @extend_schema(
        operation_id="leaderboard_list",
        summary="Per person in your reach: won, win rate, open pipeline and target attainment",
        parameters=[*PERIOD_PARAMETERS, CURRENCY_PARAMETER],
        responses={200: LeaderboardSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        date_from, date_to = _period(request)
        currency = _currency(request)
        result = selectors.leaderboard(
            user=request.user, date_from=date_from, date_to=date_to, currency=currency
        )
        data = {
            "date_from": result.date_from,
            "date_to": result.date_to,
            "currency": result.currency,
            "rate_date": result.rate_date,
            "missing_rates": result.missing_rates,
            "results": [row.__dict__ for row in result.rows],
        }
        return Response(dict(LeaderboardSerializer(data).data))


class TargetListView(KithAPIView):
    @extend_schema(
        operation_id="targets_list",
        summary="Sales targets you may see",
        parameters=[
            OpenApiParameter("user", int),
            OpenApiParameter("team", int),
            OpenApiParameter("date_from", str, description="Targets ending on or after (YYYY-MM-DD)"),
            OpenApiParameter("date_to", str, description="Targets starting on or before (YYYY-MM-DD)"),
            *PAGING,
        ],
        responses={200: TargetPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        rows = selectors.target_list(
            user=request.user,
            subject_user=optional_id(request, "user"),
            subject_team=optional_id(request, "team"),
            date_from=_day(request, "date_from"),
            date_to=_day(request, "date_to"),
        )
        return page_of(request, rows, TargetSerializer)

    @extend_schema(
        operation_id="targets_create",
        request=TargetInputSerializer,
        responses={201: TargetSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(TargetInputSerializer, request.data)
        target = services.target_create(actor=request.user, data=data)
        return Response(_target(target), status=status.HTTP_201_CREATED)


class TargetDetailView(KithAPIView):
    @extend_schema(
        operation_id="targets_retrieve", responses={200: TargetSerializer, **error_responses(401, 403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_target(selectors.target_for(request.user, pk)))

    @extend_schema(
        operation_id="targets_partial_update",
        request=TargetUpdateSerializer,
        responses={200: TargetSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        target = selectors.target_for(request.user, pk)
        data = validated(TargetUpdateSerializer, request.data)
        expected = data.pop("expected_version", None)
        target = services.target_update(
            actor=request.user, target=target, data=data, expected_version=expected
        )
        return Response(_target(target))

    @extend_schema(operation_id="targets_destroy", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        services.target_delete(actor=request.user, target=selectors.target_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
