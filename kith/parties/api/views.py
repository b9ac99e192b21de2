"""REST API of the parties domain: thin views that check input, call one service or selector, render.

Customers are addressed by their customer number. Every error is JSON (``kith.core.api.exception_handler``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from kith.audit.choices import AccessKind
from kith.audit.services import log_access
from kith.core import timeline
from kith.core.api import FastJSONParser, exception_handler
from kith.core.api_views import (
    KithAPIView,
    error_responses,
    field_error,
    fields_parameter,
    flatten_errors,
    pick,
    results_of,
    sparse_fields,
    validated,
)
from kith.core.models import TimelineEntry
from kith.jobs.api.serializers import JobSerializer
from kith.parties import services
from kith.parties.api import serializers as s
from kith.parties.choices import (
    DERIVED_DATE_KINDS,
    CustomerStatus,
    InteractionKind,
    KindScope,
    SpecialDateKind,
)
from kith.parties.imports import services as imports
from kith.parties.models import (
    Category,
    Customer,
    CustomFieldDefinition,
    Interaction,
    Relationship,
    RelationshipType,
)
from kith.parties.selectors import anniversaries_on, anniversaries_upcoming, relationships_of
from kith.parties.selectors import catalogues as catalogue_selectors
from kith.parties.selectors.anniversaries import anniversaries_count
from kith.parties.selectors.customers import customer_page, customers_for
from kith.parties.selectors.records import (
    interaction_list,
    interactions_for,
    relationships_for,
    special_dates_of,
)
from kith.parties.selectors.search import CustomerFilters, customer_search, loggable_query
from kith.parties.sensitive import redact_anniversaries
from kith.parties.services import access, exports, numbering
from kith.parties.services import catalogues as catalogue_services
from kith.security import masking
from kith.security.access_requests import note_sensitive_view
from kith.security.rules import EXPORT, IMPORT, can_administer_catalogues, is_signed_in, require_permission

ROW_COLUMNS = {"primary_phone": "phones", "primary_email": "emails"}

DEFAULT_LIMIT = 25
MAX_LIMIT = 200
PAGE_TIMELINE_LIMIT = 20
_BIGINT = 2**63 - 1
_ID_PARAMS = ("owner", "category", "role")
_CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def _counted(name: str, child: type[serializers.Serializer]) -> serializers.Serializer:
    return inline_serializer(
        name=name, fields={"results": child(many=True), "total": serializers.IntegerField()}
    )


# --- helpers -----------------------------------------------------------------------------------


def _limit(request: Request, default: int) -> int:
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise field_error("limit", _("Enter a whole number from 1 to %(max)d.") % {"max": MAX_LIMIT})
    return int(raw)


def _next_url(request: Request, cursor: str | None) -> str | None:
    if not cursor:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return f"{request.build_absolute_uri(request.path)}?{params.urlencode()}"


def _customer_for_page(request: Request, number: str) -> Customer:
    return customer_page(user=request.user, customer_number=number)


def _customer(request: Request, number: str) -> Customer:
    return get_object_or_404(customers_for(request.user), customer_number=number)


def _customer_to_change(
    request: Request, number: str, object_type: str = "customer", action: str = "edit"
) -> Customer:
    """A visible customer the caller may change: 404 when they cannot see it, 403 when they may only look
    (checked before the body is validated, so a refusal never reads as a field error)."""
    customer = _customer(request, number)
    access.require_change(request.user, customer, object_type, action)
    return customer


def _customer_field(request: Request, number: str, field: str) -> Customer:
    """A customer named in a request body: unknown numbers are a field error, not a 404."""
    customer = customers_for(request.user).filter(customer_number=number).first()
    if customer is None:
        raise field_error(field, _("There is no customer with the number “%(number)s”.") % {"number": number})
    return customer


def _user_ref(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": str(user)}


def _customer_ref(customer: Customer) -> dict[str, Any]:
    return {
        "customer_number": customer.customer_number,
        "display_name": customer.display_name,
        "kind": customer.kind,
    }


def _detail(request: Request, customer: Customer) -> dict[str, Any]:
    """Full detail, re-read with its related lists in a fixed number of queries."""
    fresh = customer_page(user=request.user, pk=customer.pk)
    masking.forget(request.user)
    return _shown(request, fresh)


def _shown(request: Request, customer: Customer, *, note: bool = False) -> dict[str, Any]:
    """The customer's detail as the caller may see it: hidden fields left out, sensitive ones masked
    (``kith.security.masking``); ``note``: record the view when a grant unmasks them."""
    view = masking.field_view(request.user, customer)
    if note:
        note_sensitive_view(request.user, customer, view, channel="api")
    data = masking.apply_to_dict(view, dict(s.CustomerDetailSerializer(customer).data))
    data["masked_fields"] = sorted(view.masked)
    data["read_only_fields"] = sorted(set(view.read_only) | set(view.masked))
    return data


def _detail_url(request: Request, customer: Customer) -> str:
    return request.build_absolute_uri(
        reverse("parties-api:customer-detail", kwargs={"number": customer.customer_number})
    )


@contextmanager
def _custom_data_errors() -> Iterator[None]:
    """The services name custom-field errors ``custom.<key>``; the API field is ``custom_data``."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {
            (f"custom_data.{key[7:]}" if key.startswith("custom.") else key): messages
            for key, messages in exc.message_dict.items()
        }
        raise DjangoValidationError(renamed) from exc


def _split_customer_input(data: dict[str, Any], *, default_lists: Any) -> dict[str, Any]:
    return {
        "phones": data.pop("phones", default_lists),
        "emails": data.pop("emails", default_lists),
        "addresses": data.pop("addresses", default_lists),
        "custom": data.pop("custom_data", None),
        "category_ids": data.pop("categories", None),
        "tag_names": data.pop("tags", None),
        "role_ids": data.pop("roles", None),
    }


def _timeline_entry(entry: TimelineEntry) -> dict[str, Any]:
    source_type = None
    if entry.source_type_id:
        ct = ContentType.objects.get_for_id(entry.source_type_id)  # cached after the first call
        source_type = f"{ct.app_label}.{ct.model}"
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "kind_label": timeline.kind_label(entry.kind),
        "occurred_at": entry.occurred_at,
        "title": entry.title,
        "summary": entry.summary,
        "actor": _user_ref(entry.actor),
        "source_type": source_type,
        "source_id": entry.source_id,
    }


def _check_timeline_cursor(cursor: str) -> None:
    try:
        when_text, pk_text = cursor.rsplit("|", 1)
        when = dt.datetime.fromisoformat(when_text)
        pk = int(pk_text)
    except (ValueError, TypeError) as exc:
        raise field_error("cursor", _("This page link is not valid any more; start again.")) from exc
    if timezone.is_naive(when) or not 0 < pk <= _BIGINT:
        raise field_error("cursor", _("This page link is not valid any more; start again."))


def _timeline_kinds(request: Request) -> list[str]:
    wanted = [k.strip() for raw in request.query_params.getlist("kind") for k in raw.split(",") if k.strip()]
    known = {k.key for k in timeline.kinds()}
    unknown = [k for k in wanted if k not in known]
    if unknown:
        raise field_error(
            "kind",
            _("Unknown kind(s): %(unknown)s. Known kinds: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))},
        )
    return wanted


def _timeline_page(request: Request, customer: Customer, *, limit: int) -> dict[str, Any]:
    cursor = request.query_params.get("cursor") or None
    if cursor:
        _check_timeline_cursor(cursor)
    page = timeline.entries_for(
        customer, user=request.user, kinds=_timeline_kinds(request), cursor=cursor, limit=limit
    )
    return {
        "results": [_timeline_entry(e) for e in page.entries],
        "next_cursor": page.next_cursor,
        "next": _next_url(request, page.next_cursor),
    }


def _relationship_side(view: Any) -> dict[str, Any]:
    rel = view.relationship
    return {
        "id": rel.pk,
        "type_id": rel.type_id,
        "type_code": rel.type.code,
        "label": view.label,
        "outgoing": view.outgoing,
        "other": _customer_ref(view.other),
        "start_date": rel.start_date,
        "end_date": rel.end_date,
        "note": rel.note,
    }


def _special_date(view: Any, fields: masking.FieldView | None = None) -> dict[str, Any] | None:
    row = view.special_date
    year, years = view.year, view.years_at_next
    if fields is not None and row.kind == SpecialDateKind.BIRTHDAY:
        if not fields.shows("birth_date"):
            return None
        if fields.is_masked("birth_date"):  # the birthday stays; the year (the age) is masked
            year = years = None
    return {
        "id": row.pk,
        "kind": row.kind,
        "kind_label": str(row.get_kind_display()),
        "label": row.label,
        "year": year,
        "month": row.month,
        "day": row.day,
        "derived": row.kind in DERIVED_DATE_KINDS,
        "next_occurrence": view.next_occurrence,
        "years_at_next": years,
    }


def _custom_fields(customer: Customer, view: masking.FieldView) -> list[dict[str, Any]]:
    """Every active definition for the customer's kind, plus retired ones that still hold a value."""
    rows = []
    definitions = catalogue_selectors.custom_field_definitions(include_retired=True).filter(
        applies_to__in=[KindScope.ANY, customer.kind]
    )
    for definition in definitions:
        value = customer.custom_data.get(definition.key)
        name = f"{masking.CUSTOM_PREFIX}{definition.key}"
        if (not definition.is_active and value is None) or not view.shows(name):
            continue
        value = view.display(name, value)
        rows.append(
            {
                "key": definition.key,
                "label": definition.label,
                "field_type": definition.field_type,
                "value": value,
                "is_active": definition.is_active,
                "is_sensitive": definition.is_sensitive,
            }
        )
    return rows


def _relationship(rel: Relationship) -> dict[str, Any]:
    return dict(s.RelationshipSerializer(rel).data)


# --- authentication ----------------------------------------------------------------------------


class TokenView(KithAPIView):
    """Trade a username and password for an API token (send it as ``Authorization: Token <key>``)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [FastJSONParser, FormParser]
    idempotent_posts = False  # the response is a secret: never stored

    @extend_schema(
        operation_id="auth_token_create",
        request=s.TokenRequestSerializer,
        responses={200: s.TokenSerializer, **error_responses(400)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = validated(s.TokenRequestSerializer, request.data)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Unable to sign in with these credentials.")]}
            )
        with transaction.atomic():
            token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


# --- customers ---------------------------------------------------------------------------------

_LIST_PARAMETERS = [
    OpenApiParameter("q", str, description=gettext_lazy("Number, phone in any format, email or name.")),
    OpenApiParameter("kind", str, enum=["person", "company"]),
    OpenApiParameter("status", str, enum=list(CustomerStatus.values)),
    OpenApiParameter("owner", int, description=gettext_lazy("Account manager id.")),
    OpenApiParameter("category", int),
    OpenApiParameter("tag", str),
    OpenApiParameter("role", int),
    OpenApiParameter("created_from", OpenApiTypes.DATE),
    OpenApiParameter("created_to", OpenApiTypes.DATE),
    OpenApiParameter("updated_from", OpenApiTypes.DATE),
    OpenApiParameter("updated_to", OpenApiTypes.DATE),
    OpenApiParameter(
        "sort",
        str,
        enum=["name", "-name", "number", "-number", "created", "-created", "updated", "-updated"],
    ),
    OpenApiParameter("cursor", str, description=gettext_lazy("next_cursor of the previous page.")),
    OpenApiParameter("limit", int, description=gettext_lazy("1 to 200, default 25.")),
]


_NOT_FILTERS = frozenset({"q", "cursor", "limit", "sort", "format", "fields"})
ROW_FIELDS = list(s.CustomerRowSerializer().fields)
DETAIL_FIELDS = [*s.CustomerDetailSerializer().fields, "masked_fields", "read_only_fields"]


def _log_search(request: Request, filters: CustomerFilters, rows: list[dict[str, Any]]) -> None:
    """Searches (a text or a filter) go to the access log with the customers returned on the page."""
    params = request.query_params
    shown = {k: params.getlist(k) for k in params if k not in _NOT_FILTERS and any(params.getlist(k))}
    if not filters.q and not shown:
        return
    if params.get("cursor"):
        shown["page"] = ["next"]
    log_access(
        request.user,
        AccessKind.SEARCH,
        customer_ids=[row["id"] for row in rows],
        query=loggable_query(filters.q, rows),
        filters=shown,
        result_count=len(rows),
    )


def _create_customer(request: Request, payload: Any) -> Customer:
    """A new customer from a create body: ``POST /customers/`` and the create items of a bulk request."""
    access.require(request.user, "customer", "create")
    data = validated(s.CustomerCreateSerializer, payload)
    kind = data.pop("kind")
    parts = _split_customer_input(data, default_lists=())
    with _custom_data_errors():
        return services.customer_create(actor=request.user, kind=kind, data=data, **parts)


def _update_customer(request: Request, customer: Customer, payload: Any) -> Customer:
    """A change from an update body (with ``version``): ``PATCH /customers/{number}/`` and the update items
    of a bulk request."""
    data = validated(s.CustomerUpdateSerializer, payload)
    version = data.pop("version")
    parts = _split_customer_input(data, default_lists=None)
    with _custom_data_errors():
        return services.customer_update(
            actor=request.user, customer=customer, expected_version=version, data=data, **parts
        )


class CustomerListView(KithAPIView):
    @extend_schema(
        operation_id="customers_list",
        parameters=[*_LIST_PARAMETERS, fields_parameter(ROW_FIELDS)],
        description=gettext_lazy(
            "Search and filter customers, keyset-paginated. Custom fields filter as cf_<key>=<value>; "
            "fields=customer_number,display_name returns only those keys of each row."
        ),
        responses={200: s.CustomerListSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        errors: dict[str, list[str]] = {}
        clean = params.copy()
        for name in _ID_PARAMS:
            value = params.get(name) or ""
            if value and not (value.isascii() and value.isdigit() and len(value) <= 18):
                errors[name] = [_("Enter a whole number.")]
                clean.pop(name)
        for name in params:
            if name.startswith("cf_") and not _CUSTOM_KEY.match(name[3:]):
                errors[name] = [_("Unknown custom field.")]
                clean.pop(name)
        limit = 0
        try:
            limit = _limit(request, DEFAULT_LIMIT)
        except exceptions.ValidationError as exc:
            errors.update(exc.detail)  # type: ignore[arg-type]
        fields = None
        try:
            fields = sparse_fields(request, ROW_FIELDS)
        except exceptions.ValidationError as exc:
            errors.update(exc.detail)  # type: ignore[arg-type]
        try:
            filters = CustomerFilters.from_params(clean)
        except DjangoValidationError as exc:
            errors.update(exc.message_dict)
        if not errors:
            try:
                masking.check_filterable(
                    request.user,
                    "customer",
                    [f"custom.{k}" for k in filters.custom],
                    param=lambda n: "cf_" + n[7:],
                )
            except DjangoValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise exceptions.ValidationError(errors)
        cursor = params.get("cursor") or None
        try:
            page = customer_search(user=request.user, filters=filters, cursor=cursor, limit=limit)
        except (ValueError, TypeError, OverflowError) as exc:
            # a hand-made cursor whose values do not fit the sort columns
            if not cursor:
                raise
            raise field_error("cursor", _("This page link is not valid any more; start again.")) from exc
        _log_search(request, filters, page.rows)
        base = request.build_absolute_uri(reverse("parties-api:customer-list"))
        results = [
            {
                "id": row["id"],
                "customer_number": row["customer_number"],
                "kind": row["kind"],
                "display_name": row["display_name"],
                "status": row["status"],
                "owner_id": row["owner_id"],
                "primary_phone": row["primary_phone"],
                "primary_email": row["primary_email"],
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
                "url": f"{base}{quote(row['customer_number'], safe='')}/",
            }
            for row in page.rows
        ]
        views = masking.field_views(request.user, page.rows)
        for row, result in zip(page.rows, results, strict=True):
            masking.apply_to_row(views[row["id"]], result, ROW_COLUMNS)
            result.pop("primary_phone_masked", None)
            result.pop("primary_email_masked", None)
        return Response(
            {
                "results": [pick(result, fields) for result in results],
                "next_cursor": page.next_cursor,
                "next": _next_url(request, page.next_cursor),
            }
        )

    @extend_schema(
        operation_id="customers_create",
        request=s.CustomerCreateSerializer,
        responses={201: s.CustomerDetailSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        customer = _create_customer(request, request.data)
        return Response(
            _detail(request, customer),
            status=status.HTTP_201_CREATED,
            headers={"Location": _detail_url(request, customer)},
        )


class CustomerDetailView(KithAPIView):
    @extend_schema(
        operation_id="customers_retrieve",
        parameters=[fields_parameter(DETAIL_FIELDS)],
        responses={200: s.CustomerDetailSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        fields = sparse_fields(request, DETAIL_FIELDS)
        return Response(pick(_shown(request, _customer_for_page(request, number), note=True), fields))

    @extend_schema(
        operation_id="customers_partial_update",
        request=s.CustomerUpdateSerializer,
        description=gettext_lazy(
            "Change master data. Send the version you loaded; lists given replace the stored ones, "
            "custom_data keys given change, others stay."
        ),
        responses={200: s.CustomerDetailSerializer, **error_responses(400, 401, 404, 409)},
    )
    def patch(self, request: Request, number: str) -> Response:
        customer = _update_customer(request, _customer_to_change(request, number), request.data)
        return Response(_detail(request, customer))

    @extend_schema(operation_id="customers_destroy", responses={204: None, **error_responses(401, 404, 409)})
    def delete(self, request: Request, number: str) -> Response:
        services.customer_delete(
            actor=request.user, customer=_customer_to_change(request, number, action="delete")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _bulk_item(request: Request, index: int, item: dict[str, Any]) -> dict[str, Any]:
    """One item of a bulk request in its own savepoint: an update when it names a ``customer_number``, else
    a create; its error as the single endpoint would answer it (same codes, flat field keys)."""
    number = item.get("customer_number")
    shown = number if isinstance(number, str) else None
    result: dict[str, Any] = {"index": index, "customer_number": shown, "version": None}
    try:
        with transaction.atomic():
            if "customer_number" in item:
                if not isinstance(number, str) or not number.strip():
                    raise field_error("customer_number", _("Give the number of the customer to change."))
                payload = {k: v for k, v in item.items() if k != "customer_number"}
                customer = _update_customer(request, _customer_to_change(request, number), payload)
                result["status"] = "updated"
            else:
                customer = _create_customer(request, item)
                result["status"] = "created"
    except Exception as exc:  # what the exception handler cannot answer is raised again
        response = exception_handler(exc, {"request": request, "view": None})
        if response is None:
            raise
        body = response.data
        errors = flatten_errors(body.get("errors") or {})
        if body.get("non_field_errors"):
            errors.setdefault("non_field_errors", []).extend(str(m) for m in body["non_field_errors"])
        if body.get("code") == "not_found":
            errors.setdefault("customer_number", []).append(
                _("There is no customer with the number “%(number)s”.") % {"number": number}
            )
        result.update(
            status="error", code=str(body.get("code")), detail=str(body.get("detail")), errors=errors
        )
        return result
    result.update(customer_number=customer.customer_number, version=customer.version, errors={})
    return result


class CustomerBulkView(KithAPIView):
    """Many creates and updates in one request, each through the same checks and services as the single
    endpoints (permissions, visibility, field rules, versions)."""

    @extend_schema(
        operation_id="customers_bulk",
        summary=gettext_lazy("Create and update up to 500 customers in one request"),
        description=gettext_lazy(
            "Each item is a create body (as POST /customers/) or an update body with customer_number and "
            "version (as PATCH /customers/{number}/). Without atomic, each item is saved or refused on its "
            "own (a stale version is that item's conflict) and the answer is 200 with a result per item. "
            "With atomic: true, one refused item saves nothing: 400 with the results (the items that would "
            "have been saved are rolled_back)."
        ),
        request=s.CustomerBulkSerializer,
        responses={
            200: s.CustomerBulkResponseSerializer,
            400: s.CustomerBulkErrorSerializer,
            **error_responses(401, 403),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(s.CustomerBulkSerializer, request.data)
        with transaction.atomic():
            results = [_bulk_item(request, index, item) for index, item in enumerate(data["items"])]
            failed = sum(1 for r in results if r["status"] == "error")
            refused = data["atomic"] and failed > 0
            if refused:
                transaction.set_rollback(True)
        counts = {
            "created": sum(1 for r in results if r["status"] == "created"),
            "updated": sum(1 for r in results if r["status"] == "updated"),
            "failed": failed,
        }
        if not refused:
            return Response({"results": results, **counts})
        # all or nothing, and something was refused: nothing was saved
        errors: dict[str, list[str]] = {}
        for r in results:
            where = f"items.{r['index']}"
            if r["status"] == "error":
                for field, messages in (r["errors"] or {"": [r["detail"]]}).items():
                    errors[f"{where}.{field}" if field else where] = messages
                continue
            if r["status"] == "created":
                r["customer_number"] = None  # its number was given back with the rollback
            r.update(status="rolled_back", version=None)
        return Response(
            {
                "code": "bulk_refused",
                "detail": _("Nothing was saved: %(count)d item(s) were refused.") % {"count": failed},
                "errors": errors,
                "results": results,
                "created": 0,
                "updated": 0,
                "failed": failed,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )


class _CustomerStatusView(KithAPIView):
    target_status: str = ""

    def post(self, request: Request, number: str) -> Response:
        customer = _customer_to_change(request, number)
        data = validated(s.VersionSerializer, request.data)
        services.customer_set_status(
            actor=request.user,
            customer=customer,
            status=self.target_status,
            expected_version=data.get("version"),
        )
        return Response(_detail(request, customer))


@extend_schema_view(
    post=extend_schema(
        operation_id="customers_archive",
        request=s.VersionSerializer,
        responses={200: s.CustomerDetailSerializer, **error_responses(400, 401, 404, 409)},
    )
)
class CustomerArchiveView(_CustomerStatusView):
    target_status = CustomerStatus.ARCHIVED


@extend_schema_view(
    post=extend_schema(
        operation_id="customers_reactivate",
        request=s.VersionSerializer,
        responses={200: s.CustomerDetailSerializer, **error_responses(400, 401, 404, 409)},
    )
)
class CustomerReactivateView(_CustomerStatusView):
    target_status = CustomerStatus.ACTIVE


class CustomerPageView(KithAPIView):
    @extend_schema(
        operation_id="customers_page",
        description=gettext_lazy(
            "Everything the customer page shows in one call: master data, contact points, custom fields "
            "with labels, classification, relationships worded from this customer's side, the first "
            "timeline page and special dates with their next occurrence."
        ),
        responses={200: s.CustomerPageSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        customer = _customer_for_page(request, number)
        log_access(request.user, AccessKind.VIEW, customer_ids=[customer.pk])
        view = masking.field_view(request.user, customer)
        return Response(
            {
                "customer": _shown(request, customer, note=True),
                "custom_fields": _custom_fields(customer, view),
                "relationships": [_relationship_side(v) for v in relationships_of(customer)],
                "timeline": _timeline_page_first(request, customer),
                "special_dates": [
                    d for d in (_special_date(v, view) for v in special_dates_of(customer)) if d is not None
                ],
            }
        )


def _timeline_page_first(request: Request, customer: Customer) -> dict[str, Any]:
    page = timeline.entries_for(customer, user=request.user, limit=PAGE_TIMELINE_LIMIT)
    next_url = None
    if page.next_cursor:
        path = reverse("parties-api:customer-timeline", kwargs={"number": customer.customer_number})
        next_url = f"{request.build_absolute_uri(path)}?cursor={quote(page.next_cursor, safe='')}"
    return {
        "results": [_timeline_entry(e) for e in page.entries],
        "next_cursor": page.next_cursor,
        "next": next_url,
    }


class CustomerTimelineView(KithAPIView):
    @extend_schema(
        operation_id="customers_timeline",
        parameters=[
            OpenApiParameter(
                "kind", str, description=gettext_lazy("Timeline kinds, comma-separated or repeated.")
            ),
            OpenApiParameter("cursor", str),
            OpenApiParameter("limit", int),
        ],
        responses={200: s.TimelinePageSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        limit = _limit(request, 50)
        customer = _customer(request, number)
        return Response(_timeline_page(request, customer, limit=limit))


# --- special dates -----------------------------------------------------------------------------


class SpecialDateListView(KithAPIView):
    @extend_schema(
        operation_id="customers_special_dates_list",
        responses={200: results_of("SpecialDateList", s.SpecialDateSerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        customer = _customer_for_page(request, number)
        fields = masking.field_view(request.user, customer)
        rows = (_special_date(v, fields) for v in special_dates_of(customer))
        return Response({"results": [r for r in rows if r is not None]})

    @extend_schema(
        operation_id="customers_special_dates_create",
        request=s.SpecialDateCreateSerializer,
        responses={201: s.SpecialDateSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request, number: str) -> Response:
        customer = _customer_to_change(request, number)
        data = validated(s.SpecialDateCreateSerializer, request.data)
        row = services.special_date_add(
            actor=request.user,
            customer=customer,
            kind=data["kind"],
            month=data["month"],
            day=data["day"],
            year=data.get("year"),
            label=data.get("label", ""),
        )
        view = next(v for v in special_dates_of(customer) if v.special_date.pk == row.pk)
        return Response(
            _special_date(view, masking.field_view(request.user, customer)), status=status.HTTP_201_CREATED
        )


class SpecialDateDetailView(KithAPIView):
    @extend_schema(
        operation_id="customers_special_dates_destroy", responses={204: None, **error_responses(400, 404)}
    )
    def delete(self, request: Request, number: str, pk: int) -> Response:
        customer = _customer_to_change(request, number)
        row = get_object_or_404(customer.special_dates.all(), pk=pk)
        services.special_date_remove(actor=request.user, special_date=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- interactions ------------------------------------------------------------------------------


def _interaction(interaction: Interaction) -> dict[str, Any]:
    return dict(s.InteractionSerializer(interaction).data)


class InteractionListView(KithAPIView):
    @extend_schema(
        operation_id="interactions_list",
        parameters=[
            OpenApiParameter("customer", str, description=gettext_lazy("Customer number.")),
            OpenApiParameter("kind", str, description=gettext_lazy("Interaction kinds, comma-separated.")),
            OpenApiParameter("cursor", str),
            OpenApiParameter("limit", int),
        ],
        responses={200: s.InteractionPageSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        limit = _limit(request, 50)
        number = request.query_params.get("customer") or ""
        customer = _customer_field(request, number, "customer") if number else None
        kinds = [k.strip() for k in (request.query_params.get("kind") or "").split(",") if k.strip()]
        unknown = [k for k in kinds if k not in InteractionKind.values]
        if unknown:
            raise field_error("kind", _("Unknown kind(s): %(kinds)s.") % {"kinds": ", ".join(unknown)})
        page = interaction_list(
            user=request.user,
            customer=customer,
            kinds=kinds,
            cursor=request.query_params.get("cursor") or None,
            limit=limit,
        )
        return Response(
            {
                "results": [dict(s.InteractionSerializer(i).data) for i in page.rows],
                "next_cursor": page.next_cursor,
                "next": _next_url(request, page.next_cursor),
            }
        )

    @extend_schema(
        operation_id="interactions_create",
        request=s.InteractionCreateSerializer,
        responses={201: s.InteractionSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.InteractionCreateSerializer, request.data)
        customer = _customer_field(request, data.pop("customer"), "customer")
        interaction = services.interaction_create(actor=request.user, customer=customer, data=data)
        return Response(_interaction(interaction), status=status.HTTP_201_CREATED)


class InteractionDetailView(KithAPIView):
    def _get(self, request: Request, pk: int) -> Interaction:
        return get_object_or_404(interactions_for(request.user).select_related("customer", "actor"), pk=pk)

    @extend_schema(
        operation_id="interactions_retrieve",
        responses={200: s.InteractionSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_interaction(self._get(request, pk)))

    @extend_schema(
        operation_id="interactions_partial_update",
        request=s.InteractionUpdateSerializer,
        responses={200: s.InteractionSerializer, **error_responses(400, 401, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        interaction = self._get(request, pk)
        data = validated(s.InteractionUpdateSerializer, request.data)
        version = data.pop("version")
        services.interaction_update(
            actor=request.user, interaction=interaction, expected_version=version, data=data
        )
        return Response(_interaction(self._get(request, pk)))

    @extend_schema(operation_id="interactions_destroy", responses={204: None, **error_responses(401, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        services.interaction_delete(actor=request.user, interaction=self._get(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- relationships -----------------------------------------------------------------------------


class RelationshipListView(KithAPIView):
    @extend_schema(
        operation_id="relationships_list",
        parameters=[
            OpenApiParameter("customer", str, required=True, description=gettext_lazy("Customer number."))
        ],
        responses={
            200: results_of("RelationshipSideList", s.RelationshipSideSerializer),
            **error_responses(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        number = request.query_params.get("customer") or ""
        if not number:
            raise field_error("customer", _("Give the customer number."))
        customer = _customer_field(request, number, "customer")
        return Response({"results": [_relationship_side(v) for v in relationships_of(customer)]})

    @extend_schema(
        operation_id="relationships_create",
        request=s.RelationshipCreateSerializer,
        responses={201: s.RelationshipSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.RelationshipCreateSerializer, request.data)
        rel_type = RelationshipType.objects.filter(pk=data["type"]).first()
        if rel_type is None:
            raise field_error("type", _("There is no such relationship type."))
        relationship = services.relationship_add(
            actor=request.user,
            type=rel_type,
            from_customer=_customer_field(request, data["from_customer"], "from_customer"),
            to_customer=_customer_field(request, data["to_customer"], "to_customer"),
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
            note=data.get("note", ""),
        )
        return Response(_relationship(relationship), status=status.HTTP_201_CREATED)


class RelationshipDetailView(KithAPIView):
    def _get(self, request: Request, pk: int) -> Relationship:
        return get_object_or_404(
            relationships_for(request.user).select_related("type", "from_customer", "to_customer"), pk=pk
        )

    @extend_schema(
        operation_id="relationships_retrieve",
        responses={200: s.RelationshipSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_relationship(self._get(request, pk)))

    @extend_schema(operation_id="relationships_destroy", responses={204: None, **error_responses(401, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        services.relationship_remove(actor=request.user, relationship=self._get(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- anniversaries -----------------------------------------------------------------------------


class _AnniversaryQuery(serializers.Serializer):
    date = serializers.DateField(required=False)
    start = serializers.DateField(required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=366)
    owner = serializers.IntegerField(required=False, min_value=1, max_value=_BIGINT)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000)


def _anniversaries(request: Request, rows: list[Any], total: int) -> dict[str, Any]:
    rows = redact_anniversaries(request.user, rows)
    return {"results": [dict(s.AnniversarySerializer(a).data) for a in rows], "total": total}


class AnniversariesOnView(KithAPIView):
    @extend_schema(
        operation_id="anniversaries_on",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description=gettext_lazy("Default: today.")),
            OpenApiParameter("owner", int, description=gettext_lazy("Account manager id.")),
            OpenApiParameter("limit", int, description=gettext_lazy("1 to 1000, default 200.")),
        ],
        responses={200: _counted("AnniversaryList", s.AnniversarySerializer), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = validated(_AnniversaryQuery, request.query_params)
        day = query.get("date") or timezone.localdate()
        rows = anniversaries_on(
            user=request.user, date=day, owner_id=query.get("owner"), limit=query.get("limit") or 200
        )
        total = anniversaries_count(user=request.user, start=day, owner_id=query.get("owner"))
        return Response(_anniversaries(request, rows, total))


class AnniversariesUpcomingView(KithAPIView):
    @extend_schema(
        operation_id="anniversaries_upcoming",
        parameters=[
            OpenApiParameter("days", int, description=gettext_lazy("1 to 366, default 7.")),
            OpenApiParameter("start", OpenApiTypes.DATE, description=gettext_lazy("Default: today.")),
            OpenApiParameter("owner", int, description=gettext_lazy("Account manager id.")),
            OpenApiParameter("limit", int, description=gettext_lazy("1 to 1000, default 200.")),
        ],
        responses={
            200: _counted("AnniversaryUpcomingList", s.AnniversarySerializer),
            **error_responses(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        query = validated(_AnniversaryQuery, request.query_params)
        start = query.get("start") or timezone.localdate()
        days = query.get("days") or 7
        rows = anniversaries_upcoming(
            user=request.user,
            start=start,
            days=days,
            owner_id=query.get("owner"),
            limit=query.get("limit") or 200,
        )
        total = anniversaries_count(user=request.user, start=start, days=days, owner_id=query.get("owner"))
        return Response(_anniversaries(request, rows, total))


# --- catalogues (read: any signed-in user; write: catalogue administrators) ---------------------


class CatalogueAccess(BasePermission):
    message = gettext_lazy("Only administrators may change the catalogues.")

    def has_permission(self, request: Any, view: Any) -> bool:
        if not is_signed_in(request.user):
            return False
        return request.method in SAFE_METHODS or can_administer_catalogues(request.user)


class CatalogueAdminOnly(BasePermission):
    message = gettext_lazy("Only administrators may see or change this setting.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_administer_catalogues(request.user)


class CatalogueView(KithAPIView):
    permission_classes = [CatalogueAccess]


def _include_retired(request: Request) -> bool:
    return (request.query_params.get("include_retired") or "").lower() in ("1", "true", "yes")


_RETIRED = OpenApiParameter("include_retired", bool, description=gettext_lazy("Also list retired entries."))


class CustomFieldListView(CatalogueView):
    @extend_schema(
        operation_id="custom_fields_list",
        parameters=[OpenApiParameter("include_retired", bool, description=gettext_lazy("Default: true."))],
        responses={200: results_of("CustomFieldList", s.CustomFieldSerializer), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        raw = (request.query_params.get("include_retired") or "true").lower()
        rows = catalogue_selectors.custom_field_definitions(include_retired=raw in ("1", "true", "yes"))
        return Response({"results": s.CustomFieldSerializer(rows, many=True).data})

    @extend_schema(
        operation_id="custom_fields_create",
        request=s.CustomFieldInputSerializer,
        responses={201: s.CustomFieldSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.CustomFieldInputSerializer, request.data)
        definition = catalogue_services.custom_field_create(actor=request.user, data=data)
        return Response(s.CustomFieldSerializer(definition).data, status=status.HTTP_201_CREATED)


class CustomFieldDetailView(CatalogueView):
    @extend_schema(
        operation_id="custom_fields_retrieve",
        responses={200: s.CustomFieldSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.CustomFieldSerializer(get_object_or_404(CustomFieldDefinition, pk=pk)).data)

    @extend_schema(
        operation_id="custom_fields_partial_update",
        request=s.CustomFieldInputSerializer,
        description=gettext_lazy("Key, type and kind cannot change; is_active=false retires the field."),
        responses={200: s.CustomFieldSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        definition = get_object_or_404(CustomFieldDefinition, pk=pk)
        data = validated(s.CustomFieldInputSerializer, request.data, partial=True)
        definition = catalogue_services.custom_field_update(
            actor=request.user, definition=definition, data=data
        )
        return Response(s.CustomFieldSerializer(definition).data)


class CategoryTreeListView(CatalogueView):
    @extend_schema(
        operation_id="category_trees_list",
        responses={200: results_of("CategoryTreeList", s.CategoryTreeSerializer), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"results": s.CategoryTreeSerializer(catalogue_selectors.category_trees(), many=True).data}
        )

    @extend_schema(
        operation_id="category_trees_create",
        request=s.CategoryTreeInputSerializer,
        responses={201: s.CategoryTreeSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.CategoryTreeInputSerializer, request.data)
        tree = catalogue_services.category_tree_create(actor=request.user, data=data)
        return Response(s.CategoryTreeSerializer(tree).data, status=status.HTTP_201_CREATED)


class CategoryTreeDetailView(CatalogueView):
    @extend_schema(
        operation_id="category_trees_retrieve",
        responses={200: s.CategoryTreeSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            s.CategoryTreeSerializer(get_object_or_404(catalogue_selectors.category_trees(), pk=pk)).data
        )

    @extend_schema(
        operation_id="category_trees_partial_update",
        request=s.CategoryTreeInputSerializer,
        responses={200: s.CategoryTreeSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        tree = get_object_or_404(catalogue_selectors.category_trees(), pk=pk)
        data = validated(s.CategoryTreeInputSerializer, request.data, partial=True)
        tree = catalogue_services.category_tree_update(actor=request.user, tree=tree, data=data)
        return Response(s.CategoryTreeSerializer(tree).data)


class CategoryListView(CatalogueView):
    @extend_schema(
        operation_id="categories_list",
        parameters=[OpenApiParameter("tree", int), _RETIRED],
        responses={200: results_of("CategoryList", s.CategorySerializer), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        tree = None
        raw = request.query_params.get("tree") or ""
        if raw:
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
                raise field_error("tree", _("Enter a whole number."))
            tree = catalogue_selectors.category_trees().filter(pk=int(raw)).first()
            if tree is None:
                raise field_error("tree", _("There is no such classification tree."))
        rows = catalogue_selectors.categories(tree=tree, include_retired=_include_retired(request))
        return Response({"results": s.CategorySerializer(rows, many=True).data})

    @extend_schema(
        operation_id="categories_create",
        request=s.CategoryCreateSerializer,
        responses={201: s.CategorySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.CategoryCreateSerializer, request.data)
        tree = catalogue_selectors.category_trees().filter(pk=data["tree"]).first()
        if tree is None:
            raise field_error("tree", _("There is no such classification tree."))
        parent = None
        if data.get("parent"):
            parent = Category.objects.filter(pk=data["parent"]).first()
            if parent is None:
                raise field_error("parent", _("There is no such category."))
        category = catalogue_services.category_create(
            actor=request.user, tree=tree, name=data["name"], parent=parent
        )
        return Response(s.CategorySerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailView(CatalogueView):
    def _get(self, pk: int) -> Category:
        return get_object_or_404(Category.objects.select_related("tree"), pk=pk)

    @extend_schema(
        operation_id="categories_retrieve", responses={200: s.CategorySerializer, **error_responses(401, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.CategorySerializer(self._get(pk)).data)

    @extend_schema(
        operation_id="categories_partial_update",
        request=s.CategoryUpdateSerializer,
        description=gettext_lazy("Rename (descendants follow) or retire/reactivate with is_active."),
        responses={200: s.CategorySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        category = self._get(pk)
        data = validated(s.CategoryUpdateSerializer, request.data)
        with transaction.atomic():  # both changes or neither
            if "name" in data:
                category = catalogue_services.category_rename(
                    actor=request.user, category=category, name=data["name"]
                )
            if "is_active" in data:
                category = catalogue_services.category_retire(
                    actor=request.user, category=category, active=data["is_active"]
                )
        return Response(s.CategorySerializer(category).data)


class TagListView(CatalogueView):
    @extend_schema(
        operation_id="tags_list",
        responses={200: results_of("TagList", s.TagSerializer), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": s.TagSerializer(catalogue_selectors.tags(), many=True).data})

    @extend_schema(
        operation_id="tags_create",
        request=s.TagInputSerializer,
        responses={201: s.TagSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.TagInputSerializer, request.data)
        tag = catalogue_services.tag_create(
            actor=request.user, name=data["name"], color=data.get("color") or "#6b7280"
        )
        return Response(s.TagSerializer(tag).data, status=status.HTTP_201_CREATED)


class TagDetailView(CatalogueView):
    @extend_schema(
        operation_id="tags_retrieve", responses={200: s.TagSerializer, **error_responses(401, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.TagSerializer(get_object_or_404(catalogue_selectors.tags(), pk=pk)).data)

    @extend_schema(operation_id="tags_destroy", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        tag = get_object_or_404(catalogue_selectors.tags(), pk=pk)
        catalogue_services.tag_delete(actor=request.user, tag=tag)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleListView(CatalogueView):
    @extend_schema(
        operation_id="roles_list",
        parameters=[_RETIRED],
        responses={200: results_of("RoleList", s.RoleSerializer), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        rows = catalogue_selectors.roles(include_retired=_include_retired(request))
        return Response({"results": s.RoleSerializer(rows, many=True).data})

    @extend_schema(
        operation_id="roles_create",
        request=s.RoleInputSerializer,
        responses={201: s.RoleSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.RoleInputSerializer, request.data)
        role = catalogue_services.role_create(actor=request.user, data=data)
        return Response(s.RoleSerializer(role).data, status=status.HTTP_201_CREATED)


class RoleDetailView(CatalogueView):
    def _get(self, pk: int) -> Any:
        return get_object_or_404(catalogue_selectors.roles(include_retired=True), pk=pk)

    @extend_schema(
        operation_id="roles_retrieve", responses={200: s.RoleSerializer, **error_responses(401, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.RoleSerializer(self._get(pk)).data)

    @extend_schema(
        operation_id="roles_partial_update",
        request=s.RoleInputSerializer,
        description=gettext_lazy("The code cannot change."),
        responses={200: s.RoleSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        role = self._get(pk)
        data = validated(s.RoleInputSerializer, request.data, partial=True)
        if "code" in data and data["code"] != role.code:
            raise field_error("code", _("The code cannot be changed."))
        data.pop("code", None)
        role = catalogue_services.role_update(actor=request.user, role=role, data=data)
        return Response(s.RoleSerializer(role).data)


class RelationshipTypeListView(CatalogueView):
    @extend_schema(
        operation_id="relationship_types_list",
        parameters=[_RETIRED],
        responses={
            200: results_of("RelationshipTypeList", s.RelationshipTypeSerializer),
            **error_responses(401),
        },
    )
    def get(self, request: Request) -> Response:
        rows = catalogue_selectors.relationship_types(include_retired=_include_retired(request))
        return Response({"results": s.RelationshipTypeSerializer(rows, many=True).data})

    @extend_schema(
        operation_id="relationship_types_create",
        request=s.RelationshipTypeInputSerializer,
        responses={201: s.RelationshipTypeSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(s.RelationshipTypeInputSerializer, request.data)
        rel_type = catalogue_services.relationship_type_create(actor=request.user, data=data)
        return Response(s.RelationshipTypeSerializer(rel_type).data, status=status.HTTP_201_CREATED)


class RelationshipTypeDetailView(CatalogueView):
    def _get(self, pk: int) -> Any:
        return get_object_or_404(catalogue_selectors.relationship_types(include_retired=True), pk=pk)

    @extend_schema(
        operation_id="relationship_types_retrieve",
        responses={200: s.RelationshipTypeSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.RelationshipTypeSerializer(self._get(pk)).data)

    @extend_schema(
        operation_id="relationship_types_partial_update",
        request=s.RelationshipTypeInputSerializer,
        description=gettext_lazy("The code cannot change."),
        responses={200: s.RelationshipTypeSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        rel_type = self._get(pk)
        data = validated(s.RelationshipTypeInputSerializer, request.data, partial=True)
        if "code" in data and data["code"] != rel_type.code:
            raise field_error("code", _("The code cannot be changed."))
        data.pop("code", None)
        rel_type = catalogue_services.relationship_type_update(actor=request.user, type=rel_type, data=data)
        return Response(s.RelationshipTypeSerializer(rel_type).data)


class NumberPatternView(KithAPIView):
    permission_classes = [CatalogueAdminOnly]

    def _body(self) -> dict[str, Any]:
        pattern = numbering.current_pattern()
        now = timezone.now()
        try:
            example = numbering.validate_pattern(pattern).render(1, year=now.year, month=now.month)
        except DjangoValidationError:
            example = ""
        return {"pattern": pattern, "example": example}

    @extend_schema(
        operation_id="settings_customer_number_pattern_retrieve",
        responses={200: s.NumberPatternOutputSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(self._body())

    @extend_schema(
        operation_id="settings_customer_number_pattern_update",
        request=s.NumberPatternSerializer,
        description=gettext_lazy("Placeholders: {year}, {month:02}, and {seq} or {seq:06} exactly once."),
        responses={200: s.NumberPatternOutputSerializer, **error_responses(400, 401, 403)},
    )
    def put(self, request: Request) -> Response:
        data = validated(s.NumberPatternSerializer, request.data)
        with transaction.atomic():
            numbering.set_pattern(data["pattern"])
        return Response(self._body())


class CustomerExportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(exports.FORMATS), default="csv")
    columns = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Column keys (see GET); default: number, name, kind, status, owner, phones, emails."
        ),
    )
    filters = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy(
            "The list's filters: q, kind, status, owner, category, tag, role, cf_<key> ..."
        ),
    )


class CustomerExportView(KithAPIView):
    """An export only reads: a token with customers:read may ask for one."""

    token_levels = {"POST": "read"}

    @extend_schema(
        operation_id="customers_export_columns",
        summary="The columns and formats an export may use",
        responses={
            200: inline_serializer(
                "ExportOptions",
                {
                    "formats": serializers.ListField(child=serializers.CharField()),
                    "columns": serializers.ListField(child=serializers.DictField()),
                    "default_columns": serializers.ListField(child=serializers.CharField()),
                },
            ),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        require_permission(request.user, "customer", EXPORT)
        return Response(
            {
                "formats": list(exports.FORMATS),
                "columns": [{"key": key, "label": label} for key, label in exports.export_columns()],
                "default_columns": list(exports.DEFAULT_COLUMNS),
            }
        )

    @extend_schema(
        operation_id="customers_export",
        summary="Export the customers the filters select, as a background job",
        description=gettext_lazy(
            "Answers 202 with the job; poll its url for progress and fetch file_url when it has finished. "
            "Permissions, visibility and masking apply as in the list; the export is logged."
        ),
        request=CustomerExportRequestSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(CustomerExportRequestSerializer, request.data)
        job = exports.start_customer_export(
            actor=request.user,
            filters=data.get("filters") or {},
            file_format=data["format"],
            columns=data.get("columns") or None,
            source="api",
        )
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text=gettext_lazy("The file (CSV, XLSX or vCard)."))
    upload = serializers.CharField(
        required=False, help_text=gettext_lazy("Or the upload id a preview answered with (the same file).")
    )
    filename = serializers.CharField(required=False, max_length=200)
    mapping = serializers.JSONField(
        required=False,
        help_text=gettext_lazy("{column: target}; default: recognised from the columns (see the preview)."),
    )
    exact = serializers.ChoiceField(choices=list(imports.ACTIONS), default=imports.UPDATE)
    fuzzy = serializers.ChoiceField(choices=list(imports.ACTIONS), default=imports.SKIP)
    threshold = serializers.IntegerField(min_value=50, max_value=100, default=imports.DEFAULT_THRESHOLD)
    default_kind = serializers.ChoiceField(choices=["", "person", "company"], default="")
    row_actions = serializers.DictField(
        child=serializers.ChoiceField(choices=list(imports.ACTIONS)),
        required=False,
        help_text=gettext_lazy(
            "{row number: action} for single rows, over the rules (1 is the first row after the header)."
        ),
    )
    dry_run = serializers.BooleanField(default=False)


def _import_options(request: Request, data: dict[str, Any]) -> tuple[str, str, imports.Options]:
    require_permission(request.user, "customer", IMPORT)  # before anything is written to disk
    upload = data.get("upload") or ""
    filename = data.get("filename") or ""
    if data.get("file") is not None:
        filename = filename or data["file"].name
        upload = imports.save_upload(data["file"].chunks(), filename=filename)
    if not upload:
        raise field_error("file", _("Send the file, or the upload id of a preview."))
    mapping = data.get("mapping")
    if mapping is not None and not (
        isinstance(mapping, dict) and all(isinstance(v, str) for v in mapping.values())
    ):
        raise field_error("mapping", _("Give an object of column names to targets."))
    options = imports.Options(
        mapping=dict(mapping or {}),
        rules={"exact": data["exact"], "fuzzy": data["fuzzy"]},
        threshold=data["threshold"],
        dry_run=data["dry_run"],
        default_kind=data["default_kind"],
        row_actions={str(k): v for k, v in (data.get("row_actions") or {}).items()},
    )
    if not options.mapping or not options.default_kind:
        first = imports.preview(actor=request.user, upload=upload, filename=filename, limit=0)
        options.mapping = options.mapping or first.mapping
        options.default_kind = options.default_kind or first.default_kind
    return upload, filename, options


class ImportPreviewView(KithAPIView):
    parser_classes = [MultiPartParser, FastJSONParser]

    @extend_schema(
        operation_id="customers_import_preview",
        summary="How a file would be read and what would happen to its first rows (nothing is saved)",
        request={"multipart/form-data": ImportRequestSerializer, "application/json": ImportRequestSerializer},
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(ImportRequestSerializer, request.data)
        upload, filename, options = _import_options(request, data)
        result = imports.preview(actor=request.user, upload=upload, filename=filename, options=options)
        table = result.table
        return Response(
            {
                "upload": upload,
                "format": table.format,
                "encoding": table.encoding,
                "delimiter": table.delimiter,
                "columns": table.columns,
                "preset": result.preset,
                "mapping": result.mapping,
                "rows": [
                    {
                        "row": outcome.row,
                        "action": outcome.action,
                        "match": outcome.match,
                        "customer_number": outcome.customer.customer_number
                        if outcome.customer is not None and outcome.action != "created"
                        else None,
                        "errors": outcome.errors,
                    }
                    for _raw, outcome in result.rows
                ],
            }
        )


class ImportView(KithAPIView):
    parser_classes = [MultiPartParser, FastJSONParser]

    @extend_schema(
        operation_id="customers_import",
        summary="Import customers from a file, as a background job",
        description=gettext_lazy(
            "Answers 202 with the job. Rows are matched (number, phone, email, then name) and skipped, updated, "
            "merged or created by the rules; rejected rows are the job's file. dry_run checks without saving."
        ),
        request={"multipart/form-data": ImportRequestSerializer, "application/json": ImportRequestSerializer},
        responses={202: JobSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(ImportRequestSerializer, request.data)
        upload, filename, options = _import_options(request, data)
        job = imports.start_import(
            actor=request.user, upload=upload, filename=filename, options=options, source="api"
        )
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


class ImportUndoView(KithAPIView):
    @extend_schema(
        operation_id="customers_import_undo",
        summary="Undo an import as a whole (while none of its customers changed since), as a background job",
        request=None,
        responses={202: JobSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        from kith.jobs.selectors import job_for

        job = job_for(request.user, pk)
        if job is None or job.kind != imports.JOB_KIND:
            raise exceptions.NotFound()
        undo = imports.start_undo(actor=request.user, job=job, source="api")
        return Response(
            JobSerializer(undo, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )
