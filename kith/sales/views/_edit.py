"""The edit forms of versioned sales records (optimistic locking): their first values, the version a form
posts, saving with the service's field errors and refusals on the form, and what to say when someone else
saved first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kith.core.errors import ConflictError, DomainError
from kith.core.forms import apply_service_errors


def conflict_message() -> str:
    return _(
        "Someone else changed this record after you opened it. Nothing was saved; your input is kept below. "
        "Reload the page to see the other change, then apply yours again."
    )


def conflict_notice() -> str:
    """The same, where there is no input to keep (a button's action, said on the record's page)."""
    return _(
        "Someone else changed this record after you opened it. Nothing was saved. "
        "Reload the page to see the other change, then apply yours again."
    )


def form_status(form: Any) -> int:
    return 400 if form.errors else 200


def initial_of(record: Any, form_class: Any, *, leave: tuple[str, ...] = ()) -> dict[str, Any]:
    """The edit form's values: the record's fields of the form's names (a related record by its id), its
    version among them; the fields named in ``leave`` start empty."""
    return {
        name: getattr(record, f"{name}_id") if hasattr(record, f"{name}_id") else getattr(record, name)
        for name in form_class.base_fields
        if name not in leave
    }


def posted_version(request: HttpRequest) -> int | None:
    """The ``version`` a one-button form posts (the version the user loaded), or None when it is not one."""
    raw = request.POST.get("version") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) < 2**31 else None


def save_versioned(
    request: HttpRequest,
    form: Any,
    update: Callable[..., Any],
    *,
    template: str,
    context: dict[str, Any],
    saved: str | Callable[[], str],
    then: str,
    conflict: str | None = None,
    conflict_status: int = 409,
    aliases: dict[str, str] | None = None,
    show: Callable[..., HttpResponse] = render,
) -> HttpResponse:
    """On a valid POST call ``update(data=..., expected_version=...)``, then say ``saved`` and redirect to
    ``then``; field errors and refusals go on the form (400); a stale version keeps the input and says
    ``conflict`` (409 unless told). ``show`` renders the page (``render`` or the app's own)."""
    if request.method == "POST" and form.is_valid():
        try:
            update(data=form.service_data(), expected_version=form.cleaned_data.get("version"))
        except ValidationError as error:
            apply_service_errors(error, form, aliases=aliases)
        except ConflictError:
            form.add_error(None, conflict or conflict_message())
            return show(request, template, context, status=conflict_status)
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, saved() if callable(saved) else saved)
            return redirect(then)
    return show(request, template, context, status=form_status(form))
