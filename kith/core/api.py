"""API building blocks loaded by DRF settings: JSON errors, fast parsing and rendering (no view imports here)."""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kith.core.errors import DomainError


class FastJSONRenderer(JSONRenderer):
    """orjson: about 15x faster than the standard library for list responses."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        # OPT_UTC_Z: UTC times end in "Z", as DRF's own DateTimeField writes them.
        return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)


class FastJSONParser(BaseParser):
    """orjson: fast, and its nesting limit turns pathological bodies into a 400 instead of a RecursionError."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from exc


def _validation_payload(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        fields = {
            field: [str(m) for e in errs for m in e.messages] for field, errs in error.error_dict.items()
        }
        non_field = fields.pop("__all__", [])
        payload: dict[str, Any] = {"code": "invalid", "detail": "Invalid input.", "errors": fields}
        if non_field:
            payload["non_field_errors"] = non_field
            payload["detail"] = non_field[0]
        return payload
    return {"code": "invalid", "detail": "; ".join(str(m) for m in error.messages), "errors": {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error is JSON: ``{"code", "detail", "errors": {field: [messages]}}``."""
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_payload(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": exc.message, "errors": {}}, status=exc.status)
    if isinstance(exc, ProtectedError):
        return Response(
            {
                "code": "protected",
                "detail": "The record has dependent records and cannot be deleted.",
                "errors": {},
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(data, dict):
            non_field = data.pop("non_field_errors", None)
            payload: dict[str, Any] = {"code": "invalid", "detail": "Invalid input.", "errors": data}
            if non_field:
                payload["non_field_errors"] = non_field
                payload["detail"] = str(non_field[0])
        else:
            payload = {"code": "invalid", "detail": "; ".join(str(d) for d in data), "errors": {}}
        response.data = payload
    elif isinstance(data, dict) and "detail" in data:
        code = getattr(data["detail"], "code", None) or "error"
        response.data = {"code": str(code), "detail": str(data["detail"]), "errors": {}}
    return response
