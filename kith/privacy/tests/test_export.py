"""The data-subject export: a ZIP with every section as JSON and as CSV, behind ("privacy", "export")."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import orjson
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from kith.privacy.services.export import export_bundle
from kith.privacy.subject_data import _sections, register_subject_data, sections

pytestmark = pytest.mark.django_db

SECTIONS = {
    "customer",
    "phones",
    "emails",
    "addresses",
    "custom_fields",
    "categories",
    "tags",
    "roles",
    "relationships",
    "interactions",
    "timeline",
    "special_dates",
    "consents",
    "erasure",
}


def _open(content: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    bundle = zipfile.ZipFile(io.BytesIO(content))
    document = orjson.loads(bundle.read("subject.json"))
    tables = {}
    for name in bundle.namelist():
        if name.endswith(".csv"):
            text = bundle.read(name).decode("utf-8-sig")
            tables[name[:-4]] = list(csv.DictReader(io.StringIO(text)))
    return document, tables


def test_bundle_has_every_section_in_json_and_csv(admin_user, rich_customer):
    bundle = export_bundle(actor=admin_user, customer=rich_customer)
    document, tables = _open(bundle.content)
    assert set(document["sections"]) >= SECTIONS and set(tables) >= SECTIONS
    assert document["customer_number"] == rich_customer.customer_number
    data = document["sections"]
    assert data["customer"][0]["family_name"] == "Quixotel"
    assert data["customer"][0]["id_document_number"] == "X1234567"
    assert data["phones"][0]["number"] == "+8613912345678"
    assert data["emails"][0]["address"] == "wilhelmina.quixotel@example.org"
    assert data["addresses"][0]["city"] == "Springfield"
    assert data["custom_fields"] == [{"key": "shoe_size", "label": "Shoe size", "value": 39}]
    assert data["categories"][0]["path"] == "Gold"
    assert data["tags"] == [{"name": "VIP"}]
    assert data["roles"][0]["code"] == "buyer"
    assert data["relationships"][0]["other_display_name"] == "Acme Trading Ltd"
    assert len(data["interactions"]) == 2
    assert len(data["timeline"]) >= 2
    assert {d["kind"] for d in data["special_dates"]} == {"birthday", "wedding"}
    assert data["consents"][0]["status"] == "given"
    assert data["erasure"] == []
    # the CSV files hold the same rows, readable by any CSV reader
    assert tables["customer"][0]["given_name"] == "Wilhelmina"
    assert tables["phones"][0]["number"] == "'+8613912345678"  # formula-safe cell (the JSON has it plain)
    assert len(tables["interactions"]) == 2
    assert tables["erasure"] == []  # an empty section still has its header
    header = zipfile.ZipFile(io.BytesIO(bundle.content)).read("erasure.csv").decode("utf-8-sig")
    assert header.strip() == "erased_at,reason,via"
    assert bundle.filename.startswith(f"kith-subject-{rich_customer.customer_number}-")


def test_modules_plug_in_their_sections(admin_user, rich_customer):
    # a name no real module uses: the registry is shared by the whole process
    register_subject_data(
        "loyalty_points", lambda customer: [{"card": "LP-1", "points": "12"}], columns=("card", "points")
    )
    try:
        document, tables = _open(export_bundle(actor=admin_user, customer=rich_customer).content)
    finally:
        _sections.pop("loyalty_points")
    assert document["sections"]["loyalty_points"] == [{"card": "LP-1", "points": "12"}]
    assert tables["loyalty_points"] == [{"card": "LP-1", "points": "12"}]
    assert "loyalty_points" not in {s.name for s in sections()}
    assert {"orders", "invoices", "contracts", "leads"} <= {s.name for s in sections()}


def test_export_refused_without_permission(user):
    from kith.parties.tests.factories import person

    customer = person(user)
    with pytest.raises(PermissionDenied):
        export_bundle(actor=user, customer=customer)


def test_download_from_the_page_and_the_api(client, admin_user, user, rich_customer):
    client.force_login(admin_user)
    url = reverse("privacy:customer_export", kwargs={"number": rich_customer.customer_number})
    assert client.get(url).status_code == 405  # a POST, so no link prefetch triggers an export
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    document, _tables = _open(response.content)
    assert document["sections"]["customer"][0]["family_name"] == "Quixotel"

    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.get(f"/api/v1/customers/{rich_customer.customer_number}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    api.force_authenticate(user)
    refused = api.get(f"/api/v1/customers/{rich_customer.customer_number}/export/")
    assert refused.status_code in (403, 404)  # 404 when the customer is not visible at all
