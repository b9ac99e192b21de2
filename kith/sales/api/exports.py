"""REST API of the sales exports (token area ``sales``): ``GET /api/v1/sales/exports/`` lists what may be
exported (types, their columns, formats); ``POST`` starts an export job and answers 202 with the job."""

from __future__ import annotations

from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, validated
from kith.jobs.api.serializers import JobSerializer
from kith.sales.services import exports
from kith.security.rules import EXPORT, has_permission


class SalesExportRequestSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=list(exports.SPECS),
        help_text=gettext_lazy(
            "What to export: one row per record of that list (or per line: quote_line ...)."
        ),
    )
    format = serializers.ChoiceField(choices=list(exports.FORMATS), default="csv")
    filters = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy(
            "The list's filters, named as its page names them: status, customer, owner, q ... "
            "(a value or a list of values)."
        ),
    )


_OPTIONS = inline_serializer(
    "SalesExportOptions",
    {
        "formats": serializers.ListField(child=serializers.CharField()),
        "types": serializers.ListField(
            child=inline_serializer(
                "SalesExportType",
                {
                    "type": serializers.CharField(),
                    "label": serializers.CharField(),
                    "object_type": serializers.CharField(),
                    "columns": serializers.ListField(child=serializers.DictField()),
                },
            )
        ),
    },
)


class SalesExportView(KithAPIView):
    """An export only reads: a token with sales:read may ask for one."""

    token_levels = {"POST": "read"}

    @extend_schema(
        operation_id="sales_exports_options",
        summary="The sales lists you may export, with their columns, and the formats",
        responses={200: _OPTIONS, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "formats": list(exports.FORMATS),
                "types": [
                    {
                        "type": spec.key,
                        "label": str(spec.label),
                        "object_type": spec.object_type,
                        "columns": [{"key": c.key, "label": str(c.header)} for c in spec.columns],
                    }
                    for spec in exports.SPECS.values()
                    if has_permission(request.user, spec.object_type, EXPORT)
                ],
            }
        )

    @extend_schema(
        operation_id="sales_exports_create",
        summary="Export a sales list with its filters, as a background job",
        description=gettext_lazy(
            "Answers 202 with the job; poll its url for progress and fetch file_url when it has finished. "
            "Needs the export permission on the list's object type; only the rows you may see are "
            "exported, and the export is logged."
        ),
        request=SalesExportRequestSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(SalesExportRequestSerializer, request.data)
        job = exports.start_sales_export(
            actor=request.user,
            export_type=data["type"],
            file_format=data["format"],
            filters=data.get("filters") or {},
            source="api",
        )
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


urlpatterns: list[URLPattern] = [
    path("sales/exports/", SalesExportView.as_view(), name="sales-exports"),
]
