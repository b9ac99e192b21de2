"""REST API of a customer's shares (``/api/v1/customers/{number}/shares/``), with the checks of the
customer's access page (``kith.parties.views.customer_access``): whoever sees the customer sees its shares,
whoever may change it shares it; a customer one cannot see is a 404. Token area ``access``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import (
    KithAPIView,
    StrictSerializer,
    error_responses,
    field_error,
    validated,
)
from kith.parties.models import Customer
from kith.parties.selectors.customers import can_change, customer_by_number
from kith.security import services as security
from kith.security.models import Share, ShareAccess, Team


class _Grantee(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class CustomerShareSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = _Grantee(allow_null=True, help_text=gettext_lazy("The user it is shared with (or null)."))
    team = _Grantee(allow_null=True, help_text=gettext_lazy("The team it is shared with (or null)."))
    access = serializers.ChoiceField(choices=ShareAccess.choices)
    created_by = _Grantee(allow_null=True)
    created_at = serializers.DateTimeField()


# the request's component is CustomerShareRequest: "access" is then one enum per component name
@extend_schema_serializer(component_name="CustomerShare")
class CustomerShareInputSerializer(StrictSerializer):
    user = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy("A user id."))
    team = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy("Or a team id."))
    access = serializers.ChoiceField(choices=ShareAccess.choices, default=ShareAccess.READ)


def _shares_of(customer: Customer) -> QuerySet[Share]:
    return Share.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
    ).select_related("user", "team", "created_by")


def _may_share(request: Request, customer: Customer) -> None:
    if not can_change(request.user, customer):
        raise exceptions.PermissionDenied(
            _("Only those who may change this customer may change its sharing.")
        )


class _SharesView(KithAPIView):
    """As the customer's access page: whoever sees the customer sees its shares, whoever may change it
    shares it; a customer you cannot see is a 404. An API token needs access:read or access:write."""

    token_area = "access"  # noqa: S105 -- the API area of tokens, not a secret


class CustomerShareListView(_SharesView):
    @extend_schema(
        operation_id="customers_shares_list",
        summary="Whom this customer is shared with",
        responses={
            200: inline_serializer("CustomerShareList", {"results": CustomerShareSerializer(many=True)}),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, number: str) -> Response:
        customer = customer_by_number(user=request.user, customer_number=number)
        return Response(
            {"results": CustomerShareSerializer(_shares_of(customer).order_by("pk"), many=True).data}
        )

    @extend_schema(
        operation_id="customers_shares_create",
        summary="Share this customer with one user or one team (again: changes the access)",
        description="Needs the right to change the customer; it takes effect at once.",
        request=CustomerShareInputSerializer,
        responses={201: CustomerShareSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, number: str) -> Response:
        customer = customer_by_number(user=request.user, customer_number=number)
        _may_share(request, customer)
        data = validated(CustomerShareInputSerializer, request.data)
        user = team = None
        if data.get("user") is not None:
            user = get_user_model().objects.filter(pk=data["user"]).first()
            if user is None:
                raise field_error("user", _("There is no user with this id."))
        if data.get("team") is not None:
            team = Team.objects.filter(pk=data["team"]).first()
            if team is None:
                raise field_error("team", _("There is no team with this id."))
        row = security.share(customer, user=user, team=team, access=data["access"], actor=request.user)
        return Response(
            CustomerShareSerializer(_shares_of(customer).get(pk=row.pk)).data, status=status.HTTP_201_CREATED
        )


class CustomerShareDetailView(_SharesView):
    @extend_schema(
        operation_id="customers_shares_destroy",
        summary="Stop sharing this customer with that user or team",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, number: str, pk: int) -> Response:
        customer = customer_by_number(user=request.user, customer_number=number)
        _may_share(request, customer)
        row = _shares_of(customer).filter(pk=pk).first()
        if row is None:
            raise Http404
        security.unshare(row)
        return Response(status=status.HTTP_204_NO_CONTENT)
