"""Shapes of the access-control API: access requests, teams, people, roles, visibility defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from kith.core.api_views import StrictSerializer
from kith.security.access_requests import MAX_COMMENT, MAX_PURPOSE
from kith.security.builtin import BUILTIN
from kith.security.models import Access, AccessRequestStatus


class AccessRequestInputSerializer(StrictSerializer):
    purpose = serializers.CharField(
        max_length=MAX_PURPOSE, help_text=_("Why the data is needed (10+ characters).")
    )
    fields = serializers.ListField(  # type: ignore[assignment]  # the metaclass collects it
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text=_("Masked fields wanted (e.g. id_document_number, phones, custom.<key>); empty: all."),
    )


class DecisionInputSerializer(StrictSerializer):
    comment = serializers.CharField(max_length=MAX_COMMENT, required=False, allow_blank=True)


class _UserRef(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class AccessRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object_type = serializers.CharField()
    object_key = serializers.CharField(help_text=_("The record's key: the customer number."))
    object_label = serializers.CharField()
    requester = _UserRef()
    purpose = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    status = serializers.ChoiceField(choices=AccessRequestStatus.choices)
    created_at = serializers.DateTimeField(default_timezone=dt.UTC)
    approver = _UserRef(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True, default_timezone=dt.UTC)
    decision_comment = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True, default_timezone=dt.UTC)


class AccessRequestListSerializer(serializers.Serializer):
    to_decide = AccessRequestSerializer(many=True)
    mine = AccessRequestSerializer(many=True)


# --- the organisation and roles (``kith.security.api.organisation``) ----------------------------------
class _TeamRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AccessTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    parent = _TeamRef(allow_null=True, help_text=_("The team this one is part of."))
    description = serializers.CharField()
    members = _UserRef(many=True, help_text=_("Read-only: set a person's team on /users/{id}/."))


class AccessTeamInputSerializer(StrictSerializer):
    # a blank name reaches the service, which answers with its own message
    name = serializers.CharField(max_length=150, allow_blank=True)
    parent = serializers.IntegerField(  # type: ignore[assignment]  # the metaclass collects it
        required=False, allow_null=True, help_text=_("The id of the team this one is part of; null: none.")
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)


class AccessTeamUpdateSerializer(AccessTeamInputSerializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class AccessUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")
    email = serializers.CharField()
    active = serializers.BooleanField(source="is_active")
    team = _TeamRef(allow_null=True)
    manager = _UserRef(allow_null=True)
    roles = serializers.SerializerMethodField(help_text=_("Role codes."))
    last_login = serializers.DateTimeField(allow_null=True, default_timezone=dt.UTC)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_roles(self, user: Any) -> list[str]:
        return [role.code for role in user.roles.all()]  # prefetched: a page costs no extra query


class AccessUserPageSerializer(serializers.Serializer):
    results = AccessUserSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.CharField(allow_null=True)


class AccessUserInputSerializer(StrictSerializer):
    manager = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("The id of an active user; null: nobody.")
    )
    team = serializers.IntegerField(required=False, allow_null=True, help_text=_("A team id; null: none."))
    roles = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        max_length=100,
        help_text=_("Role codes: the person then holds exactly these."),
    )


class AccessRoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    permissions = serializers.ListField(
        child=serializers.CharField(), help_text=_('"object_type.action" strings, e.g. "customer.view".')
    )
    require_two_factor = serializers.BooleanField()
    sensitive_clearance = serializers.BooleanField()
    is_default = serializers.BooleanField()
    sees_all = serializers.BooleanField()
    version = serializers.IntegerField(help_text=_("Send it back with a change to refuse a stale edit."))
    holders = serializers.IntegerField(help_text=_("How many users hold the role."))
    builtin = serializers.SerializerMethodField(help_text=_("A role Kith starts with; it cannot be deleted."))

    @extend_schema_field(serializers.BooleanField())
    def get_builtin(self, role: Any) -> bool:
        return role.code in BUILTIN


class AccessRoleInputSerializer(StrictSerializer):
    code = serializers.CharField(max_length=50, allow_blank=True)
    name = serializers.CharField(max_length=100, allow_blank=True)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=1000,
        help_text=_('"object_type.action" strings, e.g. "customer.view"; the role holds exactly these.'),
    )
    require_two_factor = serializers.BooleanField(required=False)
    sensitive_clearance = serializers.BooleanField(required=False)
    is_default = serializers.BooleanField(required=False)
    sees_all = serializers.BooleanField(required=False)
    version = serializers.IntegerField(
        required=False, help_text=_("The version you read: a role changed since then is refused.")
    )


class AccessRoleUpdateSerializer(AccessRoleInputSerializer):
    code = serializers.CharField(max_length=50, required=False, allow_blank=True)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class VisibilityDefaultSerializer(serializers.Serializer):
    object_type = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    access = serializers.ChoiceField(choices=Access.choices)


# the request's component is VisibilityDefaultRequest: "access" is then one enum per component name
@extend_schema_serializer(component_name="VisibilityDefault")
class VisibilityDefaultInputSerializer(StrictSerializer):
    access = serializers.ChoiceField(choices=Access.choices)
