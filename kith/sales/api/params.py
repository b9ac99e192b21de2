"""The sales API's query parameters: whole numbers in a range, and the limit/offset page of every list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import field_error

MAX_LIMIT = 200

PAGING = [
    OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}, default 50"),
    OpenApiParameter("offset", int),
]


def whole(request: Request, name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name`` as a whole number from ``low`` to ``high`` (``default`` when absent);
    anything else is a 400 on that field."""
    raw = request.query_params.get(name) or str(default)
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise field_error(
            name, _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return int(raw)


def optional_id(request: Request, name: str) -> int | None:
    """The query parameter ``name`` as a record id, or None when absent."""
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > 2**63 - 1:
        raise field_error(name, _("Give an id (a whole number)."))
    return int(raw)


def page_of(
    request: Request, rows: Any, serializer: Any, *, bodies: Callable[[list[Any]], list[Any]] | None = None
) -> Response:
    """One page of ``rows`` (``limit``, ``offset``) with the count and the next offset; ``bodies`` turns the
    page's records into their bodies when they are not simply serialized (masked as the reader may see
    them)."""
    limit = whole(request, "limit", 50, 1, MAX_LIMIT)
    offset = whole(request, "offset", 0, 0, 10**9)
    count = rows.count()
    page = list(rows[offset : offset + limit])
    return Response(
        {
            "results": bodies(page) if bodies is not None else serializer(page, many=True).data,
            "count": count,
            "next_offset": offset + limit if offset + limit < count else None,
        }
    )
