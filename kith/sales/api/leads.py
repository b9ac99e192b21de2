"""REST API of leads (capture, read, change, convert), assignment rules and follow-up tasks (token area
``sales``; POSTs honour ``Idempotency-Key``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses, field_error, results_of, validated
from kith.parties.selectors.customers import customer_by_number
from kith.sales import sensitive
from kith.sales.api import lead_serializers as s
from kith.sales.api.params import PAGING, page_of
from kith.sales.choices import LEAD, LeadSource, LeadStatus
from kith.sales.models import Lead, LeadAssignmentRule
from kith.sales.selectors import leads as selectors
from kith.sales.services import assignment, leads, tasks
from kith.security import masking


def _lead(user: Any, lead: Lead) -> dict[str, Any]:
    """The lead's body as ``user`` may see it: hidden fields left out, the phone masked without clearance."""
    view = masking.field_view(user, lead, object_type=LEAD)
    return sensitive.as_seen(view, dict(s.LeadSerializer(lead).data))


def _page_of_leads(request: Request, rows: Any) -> Response:
    """One page of the list, each record as the reader may see it."""
    return page_of(
        request,
        rows,
        s.LeadSerializer,
        bodies=lambda page: sensitive.bodies(request.user, page, s.LeadSerializer, object_type=LEAD),
    )


def _rule(rule: LeadAssignmentRule) -> dict[str, Any]:
    data = dict(s.LeadRuleSerializer({**rule.__dict__, "users": []}).data)
    data["category"] = rule.category_id
    data["users"] = sorted(rule.users.values_list("pk", flat=True))
    return data


class LeadListView(KithAPIView):
    @extend_schema(
        operation_id="leads_list",
        summary="Leads you may see, newest first",
        parameters=[
            OpenApiParameter("q", str, description="Name, company or email prefix; phone digits"),
            OpenApiParameter("status", str, enum=LeadStatus.values),
            OpenApiParameter("owner", str, description="A user id, mine or unassigned"),
            OpenApiParameter("source", str, enum=LeadSource.values),
            OpenApiParameter("territory", str),
            *PAGING,
        ],
        responses={200: s.LeadPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        for name, allowed in (("status", LeadStatus.values), ("source", LeadSource.values)):
            if params.get(name) and params[name] not in allowed:
                raise field_error(name, _("Use one of: %(values)s.") % {"values": ", ".join(allowed)})
        owner = params.get("owner") or ""
        if (
            owner
            and owner not in (selectors.MINE, selectors.UNASSIGNED)
            and not (owner.isascii() and owner.isdigit())
        ):
            raise field_error("owner", _("Give a user id, mine or unassigned."))
        rows = selectors.lead_list(
            user=request.user,
            filters=selectors.LeadFilters(
                q=params.get("q") or "",
                status=params.get("status") or "",
                owner=owner,
                source=params.get("source") or "",
                territory=params.get("territory") or "",
            ),
        ).select_related("converted_customer")
        return _page_of_leads(request, rows)

    @extend_schema(
        operation_id="leads_create",
        summary="Capture a lead (source api unless given; no owner: the assignment rules, else you)",
        request=s.LeadInputSerializer,
        responses={201: s.LeadSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.LeadInputSerializer, request.data)
        lead = leads.lead_create(actor=request.user, data=data, default_source=LeadSource.API)
        return Response(_lead(request.user, lead), status=status.HTTP_201_CREATED)


class LeadDetailView(KithAPIView):
    @extend_schema(
        operation_id="leads_retrieve", responses={200: s.LeadSerializer, **error_responses(401, 403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_lead(request.user, selectors.lead_for(request.user, pk)))

    @extend_schema(
        operation_id="leads_partial_update",
        summary="Change a lead (a converted lead: only its description); status steps too",
        request=s.LeadUpdateSerializer,
        responses={200: s.LeadSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        lead = selectors.lead_for(request.user, pk)
        data = validated(s.LeadUpdateSerializer, request.data)
        expected = data.pop("expected_version", None)
        new_status = data.pop("status", None)
        reason = data.pop("disqualified_reason", None)
        if data:
            lead = leads.lead_update(actor=request.user, lead=lead, data=data, expected_version=expected)
            expected = None
        if new_status == LeadStatus.CONTACTED:
            lead = leads.lead_mark_contacted(actor=request.user, lead=lead, expected_version=expected)
        elif new_status == LeadStatus.QUALIFIED:
            lead = leads.lead_qualify(actor=request.user, lead=lead, expected_version=expected)
        elif new_status == LeadStatus.UNQUALIFIED:
            try:
                lead = leads.lead_disqualify(
                    actor=request.user, lead=lead, reason=reason or "", expected_version=expected
                )
            except ValidationError as exc:
                raise ValidationError(
                    {"disqualified_reason": exc.message_dict.get("reason", exc.messages)}
                ) from exc
        elif new_status == LeadStatus.NEW and lead.status != LeadStatus.NEW:
            raise field_error("status", _("A lead does not go back to new."))
        return Response(_lead(request.user, lead))

    @extend_schema(operation_id="leads_destroy", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        leads.lead_delete(actor=request.user, lead=selectors.lead_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadConvertView(KithAPIView):
    @extend_schema(
        operation_id="leads_convert_candidates",
        summary="Existing customers the lead may be (email, phone, close name), best first",
        responses={
            200: results_of("LeadCandidates", s.LeadCandidateSerializer),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        lead = selectors.lead_for(request.user, pk)
        found = selectors.conversion_candidates(request.user, lead)
        return Response({"results": [dict(s.LeadCandidateSerializer(c).data) for c in found]})

    @extend_schema(
        operation_id="leads_convert",
        summary="Convert the lead into a customer (an existing one, or a new one) and an opportunity",
        request=s.LeadConvertInputSerializer,
        responses={200: s.LeadConversionSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = selectors.lead_for(request.user, pk)
        data = validated(s.LeadConvertInputSerializer, request.data)
        customer = None
        number = str(data.get("customer") or "").strip()
        if number:
            try:
                customer = customer_by_number(user=request.user, customer_number=number)
            except Http404:
                raise field_error("customer", _("No customer you may see has this number.")) from None
        result = leads.lead_convert(
            actor=request.user,
            lead=lead,
            customer=customer,
            create_opportunity=data.get("create_opportunity", True),
            opportunity_data=dict(data.get("opportunity") or {}),
        )
        return Response(
            {
                "lead": _lead(request.user, result.lead),
                "customer": result.customer.customer_number,
                "customer_created": result.customer_created,
                "opportunity": result.opportunity.pk if result.opportunity is not None else None,
            }
        )


class RuleListView(KithAPIView):
    @extend_schema(
        operation_id="lead_rules_list",
        responses={200: results_of("LeadRules", s.LeadRuleSerializer), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": [_rule(r) for r in selectors.rules_for(request.user)]})

    @extend_schema(
        operation_id="lead_rules_create",
        request=s.LeadRuleInputSerializer,
        responses={201: s.LeadRuleSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.LeadRuleInputSerializer, request.data)
        data.pop("expected_version", None)
        data.setdefault("users", [])
        data.setdefault("name", "")
        return Response(
            _rule(assignment.rule_create(actor=request.user, data=data)), status=status.HTTP_201_CREATED
        )


class RuleDetailView(KithAPIView):
    @extend_schema(
        operation_id="lead_rules_retrieve",
        responses={200: s.LeadRuleSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_rule(selectors.rule_for(request.user, pk)))

    @extend_schema(
        operation_id="lead_rules_partial_update",
        request=s.LeadRuleInputSerializer,
        responses={200: s.LeadRuleSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        rule = selectors.rule_for(request.user, pk)
        data = validated(s.LeadRuleInputSerializer, request.data)
        expected = data.pop("expected_version", None)
        rule = assignment.rule_update(actor=request.user, rule=rule, data=data, expected_version=expected)
        return Response(_rule(rule))

    @extend_schema(operation_id="lead_rules_destroy", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        assignment.rule_delete(actor=request.user, rule=selectors.rule_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowUpTaskDoneSerializer(serializers.Serializer):
    done = serializers.BooleanField()
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class TaskListView(KithAPIView):
    @extend_schema(
        operation_id="tasks_list",
        summary="Open follow-up tasks given to you (earliest due first), or the tasks of one lead",
        parameters=[OpenApiParameter("lead", int, description="The tasks of this lead (done ones too)")],
        responses={
            200: results_of("FollowUpTasks", s.FollowUpTaskSerializer),
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("lead") or ""
        if raw:
            if not (raw.isascii() and raw.isdigit()):
                raise field_error("lead", _("Enter a whole number."))
            rows = list(selectors.tasks_of(selectors.lead_for(request.user, int(raw))))
        else:
            rows = list(selectors.my_open_tasks(request.user)[:500])
        return Response({"results": [dict(s.FollowUpTaskSerializer(t).data) for t in rows]})

    @extend_schema(
        operation_id="tasks_create",
        summary="A follow-up task of a lead or an opportunity (assignee: you unless given)",
        request=s.FollowUpTaskInputSerializer,
        responses={201: s.FollowUpTaskSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.FollowUpTaskInputSerializer, request.data)
        lead_id, opportunity_id = data.pop("lead", None), data.pop("opportunity", None)
        if bool(lead_id) == bool(opportunity_id):
            raise field_error("lead", _("Give either a lead or an opportunity."))
        lead = opportunity = None
        if lead_id:
            lead = selectors.lead_for(request.user, lead_id)
        else:
            from kith.sales.choices import OPPORTUNITY
            from kith.sales.models import Opportunity
            from kith.security.selectors import visible_q

            opportunity = Opportunity.objects.filter(
                visible_q(request.user, OPPORTUNITY), pk=opportunity_id
            ).first()
            if opportunity is None:
                raise field_error("opportunity", _("No opportunity you may see has this id."))
        task = tasks.task_create(actor=request.user, data=data, lead=lead, opportunity=opportunity)
        return Response(dict(s.FollowUpTaskSerializer(task).data), status=status.HTTP_201_CREATED)


class TaskDetailView(KithAPIView):
    @extend_schema(
        operation_id="tasks_partial_update",
        summary="Tick a task done (or not done)",
        request=FollowUpTaskDoneSerializer,
        responses={200: s.FollowUpTaskSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        task = selectors.task_for(request.user, pk)
        data = validated(FollowUpTaskDoneSerializer, request.data)
        task = tasks.task_set_done(
            actor=request.user, task=task, done=data["done"], expected_version=data.get("expected_version")
        )
        return Response(dict(s.FollowUpTaskSerializer(task).data))

    @extend_schema(operation_id="tasks_destroy", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        tasks.task_delete(actor=request.user, task=selectors.task_for(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
