"""Field-level security: sensitive fields masked in every output channel for a user without clearance,
shown to a role with clearance and to administrators; hidden and read-only field rules through the UI and
the API; searching by a masked value leaks nothing."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import orjson
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from kith.audit.models import AuditEntry
from kith.parties import services
from kith.parties.models import Customer
from kith.parties.services import catalogues
from kith.parties.tests.factories import company, person
from kith.security import masking
from kith.security.models import FieldAccess, Role
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003121234"
PHONE = "+8613800138000"
MASKED_PHONE = "138****8000"
MASKED_ID = "1101**********1234"


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def people(admin_user: Any) -> dict[str, Any]:
    boss = make_user("boss", "sales_manager")
    rep = make_user("rep", "sales_rep", manager=boss)
    cleared = with_clearance(make_user("cleared", "sales_manager"))
    catalogues.custom_field_create(
        actor=None,
        data={"key": "passport", "label": "Passport", "field_type": "text", "is_sensitive": True},
    )
    catalogues.custom_field_create(actor=None, data={"key": "hobby", "label": "Hobby", "field_type": "text"})
    customer = person(
        rep,
        given_name="Li",
        family_name="Wei",
        birth_date="1990-03-12",
        id_document_number=ID_NUMBER,
        phones=[{"number": PHONE}],
        custom={"passport": "E12345678", "hobby": "chess"},
    )
    acme = company(rep, legal_name="Acme Ltd", annual_revenue="1200000.00", annual_revenue_currency="CNY")
    # the cleared manager sees everyone's customers: open the default so visibility is not the question
    from kith.security.services import set_visibility_default

    set_visibility_default("customer", "read")
    return {
        "boss": boss,
        "rep": rep,
        "cleared": cleared,
        "admin": admin_user,
        "customer": customer,
        "acme": acme,
    }


def test_mask_shapes() -> None:
    assert masking.mask(masking.PHONE, PHONE) == "+86 138****8000"
    assert masking.mask(masking.ID_NUMBER, ID_NUMBER) == MASKED_ID
    assert masking.mask(masking.DATE, dt.date(1990, 3, 12)) == "****-03-12"
    assert masking.mask(masking.DATE, "1990-03-12") == "****-03-12"
    assert masking.mask(masking.AMOUNT, "1200000.00") == "***"
    assert masking.mask(masking.TEXT, "E12345678") == "****"
    assert masking.mask(masking.ID_NUMBER, "") == ""
    assert "1234" not in masking.mask(masking.ID_NUMBER, "1234")  # short values keep less


def _page(client: Any, customer: Customer) -> str:
    response = client.get(reverse("parties:customer_detail", kwargs={"number": customer.customer_number}))
    assert response.status_code == 200
    return str(response.content.decode())


def test_customer_page_masks_for_a_rep_and_shows_to_clearance_and_admin(client, people):
    customer, acme = people["customer"], people["acme"]
    client.force_login(people["rep"])
    html = _page(client, customer)
    assert MASKED_PHONE in html and MASKED_ID in html and "****-03-12" in html
    assert ID_NUMBER not in html and "13800138000" not in html and "1990" not in html
    assert "E12345678" not in html and "chess" in html  # the admin-marked custom field is masked
    assert "Request access" in html
    company_html = _page(client, acme)
    assert "1200000" not in company_html and "*** CNY" in company_html
    for who in ("cleared", "admin"):
        client.force_login(people[who])
        html = _page(client, customer)
        assert ID_NUMBER in html and "E12345678" in html and "1990" in html
        assert MASKED_ID not in html and "Request access" not in html


def test_edit_form_shows_masked_values_and_keeps_the_stored_ones(client, people):
    customer = people["customer"]
    client.force_login(people["rep"])
    url = reverse("parties:customer_edit", kwargs={"number": customer.customer_number})
    html = client.get(url).content.decode()
    assert MASKED_ID in html and ID_NUMBER not in html and "13800138000" not in html
    response = client.post(
        url,
        {
            "kind": "person",
            "version": customer.version,
            "given_name": "Li",
            "family_name": "Wei",
            "status": "prospect",
            "id_document_number": "999",  # a disabled field: ignored, the stored value stays
            "birth_date": "2000-01-01",
            "notes": "changed",
            **{f"{n}-TOTAL_FORMS": "0" for n in ("emails", "addresses")},
            **{f"{n}-INITIAL_FORMS": "0" for n in ("emails", "addresses")},
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.notes == "changed"
    assert customer.id_document_number == ID_NUMBER and customer.birth_date == dt.date(1990, 3, 12)
    assert list(customer.phones.values_list("number", flat=True)) == [PHONE]


def test_api_detail_page_and_list_mask_for_a_rep(people):
    customer, acme = people["customer"], people["acme"]
    api = _api(people["rep"])
    detail = api.get(f"/api/v1/customers/{customer.customer_number}/").json()
    assert detail["id_document_number"] == MASKED_ID
    assert detail["birth_date"] == "****-03-12"
    assert detail["phones"][0]["number"] == "+86 " + MASKED_PHONE
    assert (
        "8000" in detail["phones"][0]["national_number"]
        and "0013" not in detail["phones"][0]["national_number"]
    )
    assert detail["custom_data"] == {"passport": "****", "hobby": "chess"}
    assert "id_document_number" in detail["masked_fields"]
    page = api.get(f"/api/v1/customers/{customer.customer_number}/page/").json()
    assert page["customer"]["id_document_number"] == MASKED_ID
    assert {f["key"]: f["value"] for f in page["custom_fields"]}["passport"] == "****"
    birthday = next(d for d in page["special_dates"] if d["kind"] == "birthday")
    assert birthday["year"] is None and birthday["years_at_next"] is None and birthday["month"] == 3
    assert api.get(f"/api/v1/customers/{acme.customer_number}/").json()["annual_revenue"] == "***"
    rows = api.get("/api/v1/customers/", {"q": "Wei"}).json()["results"]
    assert rows[0]["primary_phone"] == "+86 " + MASKED_PHONE
    upcoming = api.get("/api/v1/anniversaries/", {"date": "2026-03-12"}).json()["results"]
    assert upcoming and all(a["years"] is None for a in upcoming)

    for who in ("cleared", "admin"):
        api = _api(people[who])
        detail = api.get(f"/api/v1/customers/{customer.customer_number}/").json()
        assert detail["id_document_number"] == ID_NUMBER and detail["phones"][0]["number"] == PHONE
        assert detail["custom_data"]["passport"] == "E12345678" and detail["masked_fields"] == []
        assert api.get("/api/v1/customers/", {"q": "Wei"}).json()["results"][0]["primary_phone"] == PHONE


def test_web_list_masks_phones(client, people):
    client.force_login(people["rep"])
    html = client.get(reverse("parties:customer_list"), {"q": "Wei"}).content.decode()
    assert MASKED_PHONE in html and "13800138000" not in html and "tel:" not in html
    client.force_login(people["cleared"])
    html = client.get(reverse("parties:customer_list"), {"q": "Wei"}).content.decode()
    assert "tel:+8613800138000" in html


def test_searching_by_partial_masked_values_finds_nothing(client, people):
    api = _api(people["rep"])
    for partial in ("1380013", "0013800", "110101", "1990031", "E1234"):
        assert api.get("/api/v1/customers/", {"q": partial}).json()["results"] == [], partial
    # the full phone number is an exact key: it finds the customer but shows it masked
    rows = api.get("/api/v1/customers/", {"q": "+86 138 0013 8000"}).json()["results"]
    assert [r["primary_phone"] for r in rows] == ["+86 " + MASKED_PHONE]
    # an ID number is never a search key, not even in full
    assert api.get("/api/v1/customers/", {"q": ID_NUMBER}).json()["results"] == []
    # filtering by an admin-marked sensitive custom field is refused (substring filters would leak it)
    response = api.get("/api/v1/customers/", {"cf_passport": "E123"})
    assert response.status_code == 400 and "cf_passport" in response.json()["errors"]
    client.force_login(people["rep"])
    html = client.get(reverse("parties:customer_list"), {"q": "1380013"}).content.decode()
    assert "Wei" not in html
    response = client.get(reverse("parties:customer_list"), {"cf_passport": "E1"})
    assert response.status_code == 400 and "Wei" not in response.content.decode()


def test_digest_email_masks_the_age_for_a_manager_without_clearance(people, mailoutbox):
    from kith.parties.services.digest import send_anniversary_digest

    sent = send_anniversary_digest(start=dt.date(2026, 3, 10))
    assert "rep@example.com" in sent
    body = next(m for m in mailoutbox if m.to == ["rep@example.com"]).body
    assert "Li Wei" in body and "Birthday" in body and "years" not in body.split("Li Wei")[1].splitlines()[0]


def test_audit_history_and_audit_views_mask_sensitive_values(client, people):
    customer = people["customer"]
    services.customer_update(
        actor=people["admin"],
        customer=customer,
        expected_version=None,
        data={"id_document_number": "220202198001011111"},
    )
    history = reverse("audit:customer_history", kwargs={"number": customer.customer_number})
    client.force_login(people["rep"])
    html = client.get(history).content.decode()
    assert ID_NUMBER not in html and "220202198001011111" not in html and "13800138000" not in html
    assert MASKED_ID in html and "2202**********1111" in html
    api = _api(people["rep"])
    body = orjson.dumps(api.get(f"/api/v1/customers/{customer.customer_number}/history/").json()).decode()
    assert ID_NUMBER not in body and MASKED_ID in body and "8613800138000" not in body
    client.force_login(people["admin"])
    assert ID_NUMBER in client.get(history).content.decode()
    # the stored entries hold the ID number encrypted, as the customer table does, never in clear
    stored = AuditEntry.objects.filter(customer_id=customer.pk, object_type="parties.customer")
    assert not stored.filter(changes__icontains=ID_NUMBER).exists()
    assert stored.filter(changes__icontains="enc1:").exists()


def test_audit_list_and_export_mask_for_an_auditor_without_clearance(client, people):
    auditor = make_user("auditor1", "auditor")
    client.force_login(auditor)
    html = client.get(reverse("audit:entry_list"), {"object_type": "parties.customer"}).content.decode()
    assert MASKED_ID in html and ID_NUMBER not in html
    response = client.get(reverse("audit:export"), {"object_type": "parties.phone"})
    csv_text = b"".join(response.streaming_content).decode()
    assert "8613800138000" not in csv_text and MASKED_PHONE in csv_text


def test_privacy_export_needs_clearance_and_is_complete(client, people):
    customer = people["customer"]
    steward = Role.objects.create(
        code="dpo", name="Data protection", permissions=["privacy.export", "customer.view"]
    )
    dpo = make_user("dpo", "dpo")
    url = reverse("privacy:customer_export", kwargs={"number": customer.customer_number})
    client.force_login(people["rep"])
    assert client.post(url).status_code == 403  # reps cannot export at all
    client.force_login(dpo)
    assert client.post(url).status_code == 403  # the permission without clearance is not enough
    steward.sensitive_clearance = True
    steward.save()
    from kith.security.services import changed

    changed()
    client.force_login(people["admin"])
    response = client.post(url)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert ID_NUMBER in bundle.read("subject.json").decode()


def _set_rules(role_code: str, rules: dict[str, str]) -> None:
    masking.save_field_rules(
        actor=None, role=Role.objects.get(code=role_code), object_type="customer", rules=rules
    )


def test_hidden_fields_are_not_shown_or_returned(client, people):
    customer = people["customer"]
    _set_rules("sales_rep", {"notes": FieldAccess.HIDDEN, "custom.hobby": FieldAccess.HIDDEN})
    services.customer_update(
        actor=people["admin"], customer=customer, expected_version=None, data={"notes": "secret note"}
    )
    client.force_login(people["rep"])
    assert "secret note" not in _page(client, customer) and "chess" not in _page(client, customer)
    detail = _api(people["rep"]).get(f"/api/v1/customers/{customer.customer_number}/").json()
    assert "notes" not in detail and "hobby" not in detail["custom_data"]
    edit = client.get(reverse("parties:customer_edit", kwargs={"number": customer.customer_number}))
    assert 'name="notes"' not in edit.content.decode()
    # the manager, whose role has no rule, sees it
    client.force_login(people["boss"])
    assert "secret note" in _page(client, customer)


def test_read_only_fields_refuse_changes_with_a_field_error_and_save_nothing(people):
    customer = people["customer"]
    _set_rules("sales_rep", {"channel": FieldAccess.READ, "notes": FieldAccess.HIDDEN})
    api = _api(people["rep"])
    url = f"/api/v1/customers/{customer.customer_number}/"
    response = api.patch(
        url, {"version": customer.version, "channel": "fair", "given_name": "Lee"}, format="json"
    )
    assert response.status_code == 400 and "channel" in response.json()["errors"]
    response = api.patch(url, {"version": customer.version, "notes": "x"}, format="json")
    assert response.status_code == 400 and "notes" in response.json()["errors"]
    # masked: refused too
    response = api.patch(url, {"version": customer.version, "id_document_number": "1"}, format="json")
    assert response.status_code == 400 and "id_document_number" in response.json()["errors"]
    response = api.patch(url, {"version": customer.version, "custom_data": {"passport": "X"}}, format="json")
    assert response.status_code == 400 and "custom_data.passport" in response.json()["errors"]
    customer.refresh_from_db()
    assert customer.given_name == "Li" and customer.channel == "" and customer.id_document_number == ID_NUMBER
    assert customer.version == 1
    # other fields still save; a read-only field may be sent unchanged
    response = api.patch(
        url, {"version": customer.version, "given_name": "Lee", "channel": ""}, format="json"
    )
    assert response.status_code == 200 and response.json()["given_name"] == "Lee"
    # creating with a read-only field set is refused as well
    response = api.post(
        "/api/v1/customers/", {"kind": "person", "family_name": "New", "channel": "x"}, format="json"
    )
    assert response.status_code == 400 and "channel" in response.json()["errors"]


def test_read_only_field_in_the_web_form_is_disabled_and_kept(client, people):
    customer = people["customer"]
    _set_rules("sales_rep", {"channel": FieldAccess.READ})
    services.customer_update(
        actor=people["admin"], customer=customer, expected_version=None, data={"channel": "fair"}
    )
    client.force_login(people["rep"])
    url = reverse("parties:customer_edit", kwargs={"number": customer.customer_number})
    html = client.get(url).content.decode()
    assert "Read-only for you." in html
    customer.refresh_from_db()
    client.post(
        url,
        {
            "kind": "person",
            "version": customer.version,
            "family_name": "Wei",
            "status": "prospect",
            "channel": "web",
            **{f"{n}-TOTAL_FORMS": "0" for n in ("emails", "addresses")},
            **{f"{n}-INITIAL_FORMS": "0" for n in ("emails", "addresses")},
        },
    )
    customer.refresh_from_db()
    assert customer.channel == "fair"


def test_most_permissive_role_wins_and_rules_page_saves(client, people):
    rep = people["rep"]
    _set_rules("sales_rep", {"channel": FieldAccess.HIDDEN})
    assert masking.field_access(rep, "customer", "channel") == FieldAccess.HIDDEN
    _set_rules("viewer", {"channel": FieldAccess.READ})
    from kith.security.services import grant_role

    grant_role(rep, "viewer")
    masking.forget(rep)
    assert masking.field_access(rep, "customer", "channel") == FieldAccess.READ
    # the settings page (administrators)
    client.force_login(people["admin"])
    role = Role.objects.get(code="sales_rep")
    url = reverse("security:field_rules")
    page = client.get(url, {"role": role.pk, "type": "customer"})
    assert page.status_code == 200 and "Passport" in page.content.decode()
    names = [n for n, _label in masking.fields_of("customer")]
    data = {f"f{i}": ("read" if n == "status" else "edit") for i, n in enumerate(names)}
    response = client.post(f"{url}?role={role.pk}&type=customer", data)
    assert response.status_code == 302
    assert dict(role.field_rules.values_list("field", "access")) == {"status": "read"}
    client.force_login(rep)
    assert client.post(f"{url}?role={role.pk}&type=customer", data).status_code == 403
