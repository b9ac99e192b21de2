"""The API base view and strict input checking shared by every app's API.

Kept apart from ``kith.core.api``, which DRF imports from its settings while it is still defining APIView.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.http import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kith.core import idempotency
from kith.core.api import FastJSONParser

# --- strict input ------------------------------------------------------------------------------


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as flat dotted keys (``phones.0.number``), the shape the services use."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            if key in ("non_field_errors", "__all__"):
                name = prefix or "non_field_errors"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
    elif isinstance(errors, list | tuple):
        if all(isinstance(item, str) for item in errors):
            if errors:
                flat.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in errors)
        else:
            for index, item in enumerate(errors):
                if item:
                    name = f"{prefix}.{index}" if prefix else str(index)
                    for field, messages in flatten_errors(item, name).items():
                        flat.setdefault(field, []).extend(messages)
    elif errors not in (None, ""):
        flat.setdefault(prefix or "non_field_errors", []).append(str(errors))
    return flat


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, instead of silently ignoring them."""

    default_error_messages = {"unknown": gettext_lazy("Unknown field.")}

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, Any] = {}
        if isinstance(data, Mapping):
            unknown = {str(k): [self.error_messages["unknown"]] for k in data if k not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def validated(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict[str, Any]:
    """Validate ``data``; on failure raise one 400 with flat field keys."""
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        raise exceptions.ValidationError(flatten_errors(serializer.errors))
    return dict(serializer.validated_data)


def _null_character_path(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) holding a NUL character; databases refuse them."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where or "non_field_errors"
        elif isinstance(item, Mapping):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and "\x00" in key:
                    return where or "non_field_errors"
                stack.append((child, name))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}.{i}" if where else str(i)) for i, child in enumerate(item))
    return None


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (documentation only)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


_request_checks: list[Callable[[Request, APIView], None]] = []


def error_responses(*codes: int) -> dict[int, Any]:
    """``extend_schema(responses=...)`` entries: the JSON error body for each status code."""
    return dict.fromkeys(codes, ErrorSerializer)


def results_of(name: str, child: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of a ``{"results": [...]}`` answer."""
    return inline_serializer(name=name, fields={"results": child(many=True)})


def field_error(field: str, message: str) -> exceptions.ValidationError:
    """A 400 with one message on one field (a check the serializer cannot make)."""
    return exceptions.ValidationError({field: [message]})


def register_request_check(check: Callable[[Request, APIView], None]) -> None:
    """A check every API request passes once authenticated and permitted (domain apps plug in here:
    the security app narrows API tokens to their scopes); it raises a DRF exception to refuse."""
    if check not in _request_checks:
        _request_checks.append(check)


# --- sparse fields -----------------------------------------------------------------------------

FIELDS_PARAM = "fields"


def fields_parameter(names: list[str]) -> OpenApiParameter:
    """The schema of ``?fields=a,b`` for a response whose keys are ``names``."""
    return OpenApiParameter(
        FIELDS_PARAM,
        str,
        many=True,
        explode=False,
        enum=names,
        description=gettext_lazy(
            "Sparse fields: only these keys of each object are returned (comma-separated); default all."
        ),
    )


def sparse_fields(request: Request, known: Iterable[str]) -> list[str] | None:
    """The keys asked for with ``?fields=a,b`` (or repeated), ``None`` for all; unknown names are a 400
    on ``fields``."""
    wanted = [
        name.strip()
        for raw in request.query_params.getlist(FIELDS_PARAM)
        for name in raw.split(",")
        if name.strip()
    ]
    if not wanted:
        return None
    allowed = list(known)
    unknown = sorted({name for name in wanted if name not in allowed})
    if unknown:
        raise exceptions.ValidationError(
            {
                FIELDS_PARAM: [
                    _("Unknown field(s): %(unknown)s. Known fields: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(allowed)}
                ]
            }
        )
    return list(dict.fromkeys(wanted))


def pick(data: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """``data`` narrowed to ``fields`` (after masking: a field left out for the caller stays out)."""
    if fields is None:
        return data
    return {name: data[name] for name in fields if name in data}


# --- the base view -----------------------------------------------------------------------------


class KithAutoSchema(AutoSchema):
    """The schema of API views: documents the ``Idempotency-Key`` header on the POSTs that honour it."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        view = self.view
        if (
            self.method in idempotency.METHODS
            and getattr(view, "idempotent_posts", False)
            and getattr(view, "authentication_classes", None)
        ):
            parameters.append(idempotency.PARAMETER)
        return parameters


class KithAPIView(APIView):
    """Base of every API view: authentication from settings (token first, so a missing login is a 401),
    JSON bodies, no NUL characters, idempotency keys on POST (``kith.core.idempotency``)."""

    parser_classes = [FastJSONParser]
    schema = KithAutoSchema()
    # False for a view whose response must not be stored (it holds a secret) or that needs no key
    idempotent_posts = True

    _idempotency: Any = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        for check in _request_checks:
            check(request, self)
        message = _("Null characters are not allowed.")
        where = _null_character_path(kwargs, "") or _null_character_path(dict(request.query_params), "")
        if where is None and request.method in ("POST", "PUT", "PATCH"):
            where = _null_character_path(request.data, "")
        if where is not None:
            raise exceptions.ValidationError({where: [message]})
        if self.idempotent_posts and hasattr(self, str(request.method).lower()):
            # last: only a request that passed every check is remembered (or replayed)
            self._idempotency = idempotency.begin(request)

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        if isinstance(exc, idempotency.KeyRefused):
            return Response(exc.payload(), status=exc.status_code)
        return super().handle_exception(exc)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self._idempotency = None
        try:
            response = super().dispatch(request, *args, **kwargs)
        except BaseException:
            idempotency.abandon(self._idempotency)
            raise
        return idempotency.finish(self._idempotency, response)
