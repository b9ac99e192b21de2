"""The customer export page: the list's current filters, a format and the columns; it starts a job."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kith.core.forms import apply_service_errors
from kith.parties.services import exports
from kith.parties.views import is_htmx
from kith.security.rules import EXPORT, require_permission


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), widget=forms.RadioSelect, initial="csv")
    columns = forms.MultipleChoiceField(label=_("Columns"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        formats: Any = self.fields["format"]
        formats.choices = [(code, label) for code, (_suffix, label) in exports.FORMATS.items()]
        columns: Any = self.fields["columns"]
        columns.choices = exports.export_columns()
        self.fields["columns"].initial = list(exports.DEFAULT_COLUMNS)
        self.fields["columns"].help_text = _("vCard files always hold names, phones, emails and addresses.")


def _filters(data: Any) -> dict[str, list[str]]:
    return {
        k: [v for v in data.getlist(k) if v]
        for k in data
        if k not in exports.NOT_FILTERS and any(data.getlist(k))
    }


@login_required
@require_http_methods(["GET", "POST"])
def customer_export(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "customer", EXPORT)
    if request.method == "GET" and is_htmx(request):
        # the list's Export button (htmx): open this page with the list's filters as a full page
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{reverse('parties:customer_export')}?{request.GET.urlencode()}"
        return response
    source = request.POST if request.method == "POST" else request.GET
    filters = _filters(source)
    status = 200
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            try:
                job = exports.start_customer_export(
                    actor=request.user,
                    filters=filters,
                    file_format=form.cleaned_data["format"],
                    columns=form.cleaned_data["columns"],
                )
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                return redirect("jobs:detail", pk=job.pk)
        status = 400
    else:
        form = ExportForm()
    hidden = [(k, v) for k, values in filters.items() for v in values]
    query = QueryDict(mutable=True)
    for key, value in hidden:
        query.appendlist(key, value)
    back = f"{reverse('parties:customer_list')}?{query.urlencode()}" if hidden else ""
    return render(
        request,
        "parties/customer_export.html",
        {"form": form, "hidden": hidden, "back_url": back or reverse("parties:customer_list")},
        status=status,
    )
