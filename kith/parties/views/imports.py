"""The import wizard: upload a file, check the mapping against a preview of the first rows, then check
(dry run) or import as a background job; undo a finished import."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kith.core.forms import apply_service_errors
from kith.jobs import selectors as job_selectors
from kith.parties.imports import presets
from kith.parties.imports import services as imports
from kith.parties.models import CustomFieldDefinition, RelationshipType
from kith.security.rules import IMPORT, require_permission

ACTION_CHOICES = [
    (imports.SKIP, gettext_lazy("skip the row")),
    (imports.UPDATE, gettext_lazy("update the customer")),
    (imports.MERGE, gettext_lazy("merge: fill empty fields only")),
    (imports.CREATE, gettext_lazy("create a new customer")),
]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (any delimiter; UTF-8, UTF-16, GBK/GB18030 or Windows encodings), Excel XLSX or vCard. "
            "Exports of Google Contacts, Outlook, HubSpot, Salesforce and LinkedIn are recognised."
        ),
    )


class OptionsForm(forms.Form):
    exact = forms.ChoiceField(
        label=gettext_lazy("A row with the number, a phone or an email of a customer"),
        choices=ACTION_CHOICES,
        initial=imports.UPDATE,
    )
    fuzzy = forms.ChoiceField(
        label=gettext_lazy("A row whose name is close to a customer's"),
        choices=ACTION_CHOICES,
        initial=imports.SKIP,
    )
    threshold = forms.IntegerField(
        label=gettext_lazy("How close (50–100)"),
        min_value=50,
        max_value=100,
        initial=imports.DEFAULT_THRESHOLD,
    )
    default_kind = forms.ChoiceField(
        label=gettext_lazy("Rows that do not say"),
        choices=[
            ("", gettext_lazy("person or company from the names")),
            ("person", gettext_lazy("are persons")),
            ("company", gettext_lazy("are companies")),
        ],
        required=False,
    )

    def __init__(self, *args: Any, columns: list[str], mapping: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = presets.targets(
            CustomFieldDefinition.objects.filter(is_active=True).values_list("key", "label"),
            RelationshipType.objects.filter(is_active=True).values_list("code", "name"),
        )
        flat: list[Any] = [("", _("— ignore —"))]
        for group, items in choices:
            flat.append((str(group), [(t, str(label)) for t, label in items]))
        self.columns = columns
        for index, column in enumerate(columns):
            self.fields[f"map_{index}"] = forms.ChoiceField(
                label=column, choices=flat, required=False, initial=mapping.get(column, "")
            )

    def mapping_fields(self) -> list[Any]:
        return [self[f"map_{i}"] for i in range(len(self.columns))]

    def row_actions(self) -> dict[str, str]:
        """The choices made on rows of the preview (``row_<n>``), over the rules."""
        return {
            key[4:]: value
            for key, value in self.data.items()
            if key.startswith("row_") and key[4:].isdigit() and value in imports.ACTIONS
        }

    def options(self, *, dry_run: bool) -> imports.Options:
        data = self.cleaned_data
        return imports.Options(
            mapping={c: data.get(f"map_{i}") or "" for i, c in enumerate(self.columns)},
            rules={"exact": data["exact"], "fuzzy": data["fuzzy"]},
            threshold=data["threshold"],
            dry_run=dry_run,
            default_kind=data.get("default_kind") or "",
            row_actions=self.row_actions(),
        )


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "customer", IMPORT)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                name = imports.save_upload(upload.chunks(), filename=upload.name)
                imports.read_upload(name, filename=upload.name)  # refuse an unreadable file here, not later
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                request.session.setdefault("kith_imports", {})[name] = upload.name
                request.session.modified = True
                return redirect(
                    f"{reverse('parties:import_map', args=[name])}?{urlencode({'name': upload.name})}"
                )
        status = 400
    recent = list(job_selectors.jobs_for(request.user).filter(kind=imports.JOB_KIND)[:10])
    return render(request, "parties/import_upload.html", {"form": form, "recent": recent}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_map(request: HttpRequest, upload: str) -> HttpResponse:
    """Mapping, options and the preview of the first rows; the buttons re-check, dry-run or import."""
    require_permission(request.user, "customer", IMPORT)
    filename = request.session.get("kith_imports", {}).get(upload, "") or request.GET.get("name", "")[:200]
    try:
        first = imports.preview(actor=request.user, upload=upload, filename=filename, limit=0)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("parties:import_upload")
    form = OptionsForm(
        request.POST or None,
        columns=first.table.columns,
        mapping=first.mapping,
        initial={"default_kind": first.default_kind},
    )
    result = first
    status = 200
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "preview")
        options = form.options(dry_run=action == "check")
        try:
            if action in ("check", "import"):
                job = imports.start_import(
                    actor=request.user, upload=upload, filename=filename, options=options
                )
                return redirect("jobs:detail", pk=job.pk)
            result = imports.preview(actor=request.user, upload=upload, filename=filename, options=options)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            for key, texts in errors.items():
                column = key.removeprefix("mapping.")
                name = f"map_{first.table.columns.index(column)}" if column in first.table.columns else None
                target = name or (key.split(".")[-1] if key.split(".")[-1] in form.fields else None)
                form.add_error(target, texts)
            status = 400
    elif request.method == "POST":
        status = 400
    else:
        result = imports.preview(actor=request.user, upload=upload, filename=filename)
    chosen = form.row_actions()
    for _raw, outcome in result.rows:
        outcome.chosen = chosen.get(str(outcome.row), "")  # type: ignore[attr-defined]
    return render(
        request,
        "parties/import_map.html",
        {
            "form": form,
            "preview": result,
            "mapped": any(result.mapping.values()),
            "filename": filename or upload,
            "upload": upload,
            "action_choices": ACTION_CHOICES,
        },
        status=status,
    )


@login_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_selectors.job_for(request.user, pk)
    if job is None or job.kind != imports.JOB_KIND:
        raise Http404
    try:
        undo = imports.start_undo(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("jobs:detail", pk=pk)
    return redirect("jobs:detail", pk=undo.pk)
