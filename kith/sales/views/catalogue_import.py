"""The products upload page (/sales/products/import/): a CSV or XLSX file, an optional dry run, and the
result with every refused row (row, column, reason). The work is ``kith.sales.imports.catalogue``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kith.sales.choices import PRODUCT
from kith.sales.imports.catalogue import ReadError, import_products
from kith.security.rules import IMPORT, require_permission

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a catalogue, not a data warehouse: larger files go by the command
SHOWN_ERRORS = 500


class ProductImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("CSV (any delimiter, UTF-8) or Excel .xlsx.")
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check every row, save nothing"), required=False, initial=True
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(n)d MB; use the command `kith import_products`.")
                % {"n": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def product_import(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, PRODUCT, IMPORT)
    form = ProductImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            with tempfile.TemporaryDirectory(prefix="kith-products-") as folder:
                path = Path(folder) / "upload"
                with path.open("wb") as handle:
                    for chunk in upload.chunks():
                        handle.write(chunk)
                try:
                    result = import_products(
                        path, actor=request.user, dry_run=form.cleaned_data["dry_run"], filename=upload.name
                    )
                except ReadError as exc:
                    form.add_error("file", exc.message)
        if result is None:
            status = 400
    return render(
        request,
        "sales/catalogue_import.html",
        {
            "form": form,
            "result": result,
            "errors": result.errors[:SHOWN_ERRORS] if result else [],
            "more_errors": max(0, len(result.errors) - SHOWN_ERRORS) if result else 0,
        },
        status=status,
    )
