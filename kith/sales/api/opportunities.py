"""REST API of opportunities, pipelines and approvals (token area ``sales``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, results_of, validated
from kith.parties.selectors.customers import customer_by_number
from kith.sales import sensitive
from kith.sales.api import opportunity_serializers as s
from kith.sales.api.params import MAX_LIMIT, PAGING, optional_id, page_of
from kith.sales.choices import OPPORTUNITY, OpportunityStatus
from kith.sales.models import Opportunity, Pipeline
from kith.sales.selectors import opportunities as selectors
from kith.sales.services import approvals as approval_services
from kith.sales.services import opportunities as services
from kith.security import masking


def _customer(user: Any, number: Any) -> Any:
    try:
        return customer_by_number(user=user, customer_number=str(number or "").strip())
    except Http404:
        raise field_error("customer", _("No customer you may see has this number.")) from None


def _out(user: Any, opportunity: Opportunity) -> dict[str, Any]:
    """The deal's body as ``user`` may see it (fields their field rules hide are left out)."""
    view = masking.field_view(user, opportunity, object_type=OPPORTUNITY)
    return sensitive.as_seen(view, dict(s.OpportunitySerializer(opportunity).data))


def _page_of_deals(request: Request, rows: Any) -> Response:
    """One page of the list, each record as the reader may see it."""
    return page_of(
        request,
        rows,
        s.OpportunitySerializer,
        bodies=lambda page: sensitive.bodies(
            request.user, page, s.OpportunitySerializer, object_type=OPPORTUNITY
        ),
    )


def _pipeline(pipeline: Pipeline) -> dict[str, Any]:
    pipeline.stages_shown = selectors.stages_of(pipeline)  # type: ignore[attr-defined]
    return dict(s.PipelineSerializer(pipeline).data)


ORDERING_ENUM = [*selectors.ORDERINGS, *(f"-{o}" for o in selectors.ORDERINGS)]


class OpportunityListView(KithAPIView):
    @extend_schema(
        operation_id="opportunities_list",
        summary="Deals you may see, filtered and ordered",
        parameters=[
            OpenApiParameter("q", str, description="Text in the deal name, customer name prefix or number"),
            OpenApiParameter("pipeline", int),
            OpenApiParameter("stage", int),
            OpenApiParameter("status", str, enum=OpportunityStatus.values),
            OpenApiParameter("owner", int, description="User id"),
            OpenApiParameter("customer", str, description="Customer number"),
            OpenApiParameter("close_from", str, description="Expected close on or after (YYYY-MM-DD)"),
            OpenApiParameter("close_to", str, description="Expected close on or before (YYYY-MM-DD)"),
            OpenApiParameter("ordering", str, enum=ORDERING_ENUM),
            *PAGING,
        ],
        responses={200: s.OpportunityPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        ordering = params.get("ordering") or "-created_at"
        if ordering not in ORDERING_ENUM:
            raise field_error(
                "ordering", _("Order by one of: %(keys)s.") % {"keys": ", ".join(selectors.ORDERINGS)}
            )
        state = params.get("status") or ""
        if state and state not in OpportunityStatus.values:
            raise field_error("status", _("Use open, won or lost."))
        for name in ("close_from", "close_to"):
            raw = params.get(name) or ""
            if raw and selectors._date(raw) is None:
                raise field_error(name, _("Enter a date as YYYY-MM-DD."))
        rows = selectors.opportunity_list(
            user=request.user,
            q=params.get("q") or "",
            pipeline=optional_id(request, "pipeline"),
            stage=optional_id(request, "stage"),
            status=state,
            owner=optional_id(request, "owner"),
            customer=params.get("customer") or "",
            close_from=params.get("close_from"),
            close_to=params.get("close_to"),
            ordering=ordering,
        )
        return _page_of_deals(request, rows)

    @extend_schema(
        operation_id="opportunities_create",
        request=s.OpportunityInputSerializer,
        responses={201: s.OpportunitySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.OpportunityInputSerializer, request.data)
        data["customer"] = _customer(request.user, data.get("customer"))
        opportunity = services.opportunity_create(actor=request.user, data=data)
        return Response(
            _out(request.user, selectors.opportunity_for(request.user, opportunity.pk)),
            status=status.HTTP_201_CREATED,
        )


class OpportunityDetailView(KithAPIView):
    @extend_schema(
        operation_id="opportunities_retrieve",
        responses={200: s.OpportunitySerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_out(request.user, selectors.opportunity_for(request.user, pk)))

    @extend_schema(
        operation_id="opportunities_partial_update",
        summary="Change a deal (not its stage: use move); send the version you loaded",
        request=s.OpportunityUpdateSerializer,
        responses={200: s.OpportunitySerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        opportunity = selectors.opportunity_for(request.user, pk, write=True)
        data = validated(s.OpportunityUpdateSerializer, request.data)
        expected = data.pop("version", None)
        if "customer" in data:
            data["customer"] = _customer(request.user, data["customer"])
        services.opportunity_update(
            actor=request.user, opportunity=opportunity, data=data, expected_version=expected
        )
        return Response(_out(request.user, selectors.opportunity_for(request.user, pk)))

    @extend_schema(
        operation_id="opportunities_destroy", responses={204: None, **error_responses(401, 403, 404)}
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.opportunity_delete(
            actor=request.user, opportunity=selectors.opportunity_for(request.user, pk, write=True)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class OpportunityMoveView(KithAPIView):
    @extend_schema(
        operation_id="opportunities_move",
        summary="Move a deal to a stage of its pipeline (409: stale version or an approval needed)",
        request=s.MoveInputSerializer,
        responses={200: s.OpportunitySerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        opportunity = selectors.opportunity_for(request.user, pk, write=True)
        data = validated(s.MoveInputSerializer, request.data)
        services.opportunity_move(
            actor=request.user,
            opportunity=opportunity,
            stage=data["stage"],
            expected_version=data.get("version"),
            close_reason=data.get("close_reason"),
            close_note=data.get("close_note") or "",
        )
        return Response(_out(request.user, selectors.opportunity_for(request.user, pk)))


class OpportunityApprovalsView(KithAPIView):
    @extend_schema(
        operation_id="opportunities_approvals_list",
        responses={
            200: results_of("OpportunityApprovals", s.ApprovalSerializer),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        opportunity = selectors.opportunity_for(request.user, pk)
        view = masking.field_view(request.user, opportunity, object_type=OPPORTUNITY)
        return Response(
            {
                "results": [
                    sensitive.approval_as_seen(view, dict(s.ApprovalSerializer(a).data))
                    for a in selectors.approvals_of(opportunity)
                ]
            }
        )

    @extend_schema(
        operation_id="opportunities_approvals_request",
        summary="Ask for an approval of the deal as it stands (409 when none is needed or one waits)",
        request=s.ApprovalRequestSerializer,
        responses={201: s.ApprovalSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        opportunity = selectors.opportunity_for(request.user, pk, write=True)
        data = validated(s.ApprovalRequestSerializer, request.data)
        approval = approval_services.approval_request(
            actor=request.user, opportunity=opportunity, comment=data.get("comment") or ""
        )
        view = masking.field_view(request.user, opportunity, object_type=OPPORTUNITY)
        return Response(
            sensitive.approval_as_seen(view, dict(s.ApprovalSerializer(approval).data)),
            status=status.HTTP_201_CREATED,
        )


class PipelineListView(KithAPIView):
    @extend_schema(
        operation_id="pipelines_list",
        summary="Pipelines with their stages",
        responses={200: results_of("Pipelines", s.PipelineSerializer), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        selectors.opportunities_for(request.user)  # the permission to view deals
        return Response({"results": [_pipeline(p) for p in selectors.pipelines()]})


class CloseReasonListView(KithAPIView):
    @extend_schema(
        operation_id="close_reasons_list",
        responses={200: results_of("CloseReasons", s.CloseReasonSerializer), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        selectors.opportunities_for(request.user)
        return Response(
            {
                "results": [
                    dict(s.CloseReasonSerializer(r).data) for r in selectors.close_reasons(active_only=False)
                ]
            }
        )


class ApprovalListView(KithAPIView):
    @extend_schema(
        operation_id="approvals_list",
        summary="Approvals waiting for your decision (box=to_decide, the default) or those you asked for (box=requested)",
        parameters=[OpenApiParameter("box", str, enum=["to_decide", "requested"])],
        responses={200: results_of("Approvals", s.ApprovalSerializer), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        box = request.query_params.get("box") or "to_decide"
        if box == "to_decide":
            rows = approval_services.approvals_to_decide(request.user)
        elif box == "requested":
            rows = approval_services.approvals_requested_by(request.user)
        else:
            raise field_error("box", _("Use to_decide or requested."))
        return Response(
            {"results": sensitive.approval_bodies(request.user, list(rows[:MAX_LIMIT]), s.ApprovalSerializer)}
        )


class ApprovalDecideView(KithAPIView):
    @extend_schema(
        operation_id="approvals_decide",
        summary="Approve or reject (a rejection needs a comment); never your own request",
        request=s.ApprovalDecisionSerializer,
        responses={200: s.ApprovalSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        approval = selectors.approval_get(request.user, pk)
        data = validated(s.ApprovalDecisionSerializer, request.data)
        decided = approval_services.approval_decide(
            actor=request.user, approval=approval, approve=data["approve"], comment=data.get("comment") or ""
        )
        return Response(sensitive.approval_bodies(request.user, [decided], s.ApprovalSerializer)[0])
