"""A page of a sales list: the rows cut into pages, and the filters the page links keep."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest

PAGE_SIZE = 50


def list_page(request: HttpRequest, rows: Any) -> dict[str, Any]:
    """``page``: the page ``?page=`` asks for (the last one past the end); ``query``: the other non-empty
    GET parameters, to add to the links to the other pages."""
    return {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": urlencode({k: v for k, v in request.GET.items() if k != "page" and v}),
    }
