"""Customer export: formats, the user's visibility and masking, formula neutralisation, the access log,
field-level errors, the page, the API and the command line."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl
import pytest
import vobject
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from kith.audit.models import AccessLog
from kith.jobs import services as jobs
from kith.jobs.models import Job, JobStatus
from kith.parties import services
from kith.parties.services import catalogues
from kith.parties.services.exports import start_customer_export
from kith.parties.tests.factories import company, person
from kith.security import masking
from kith.security.models import FieldAccess, Role
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"


@pytest.fixture(autouse=True)
def jobs_folder(settings, tmp_path):
    settings.KITH_JOBS_DIR = tmp_path / "jobs"


@pytest.fixture
def world(admin_user: Any) -> dict[str, Any]:
    boss = make_user("boss", "sales_manager")
    rep = make_user("rep", "sales_rep", manager=boss)
    peer = make_user("peer", "sales_manager")
    catalogues.custom_field_create(actor=None, data={"key": "hobby", "label": "Hobby", "field_type": "text"})
    catalogues.tag_create(actor=None, name="VIP")
    wei = services.customer_create(
        actor=rep,
        kind="person",
        data={
            "given_name": "伟",
            "family_name": "李",
            "birth_date": "1990-03-12",
            "id_document_number": "110101199003121234",
        },
        phones=[{"number": PHONE}],
        emails=[{"address": "li.wei@example.cn"}],
        custom={"hobby": "chess"},
        tag_names=["VIP"],
    )
    evil = company(
        boss, legal_name='=HYPERLINK("http://x.example","click")', phones=[{"number": "+4930123456"}]
    )
    hidden = person(peer, given_name="Pia", family_name="Peer")
    return {
        "boss": boss,
        "rep": rep,
        "peer": peer,
        "admin": admin_user,
        "wei": wei,
        "evil": evil,
        "hidden": hidden,
    }


def _export(user: Any, file_format: str = "csv", **kwargs: Any) -> Job:
    job = start_customer_export(
        actor=user, file_format=file_format, filters=kwargs.pop("filters", {}), **kwargs
    )
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.message
    return job


def _text(job: Job) -> str:
    return jobs.file_path(job).read_text(encoding="utf-8-sig")  # type: ignore[union-attr]


def test_csv_holds_what_the_user_sees_masked_and_neutralised(world):
    job = _export(
        world["boss"],
        columns=["customer_number", "display_name", "phones", "emails", "birth_date", "custom.hobby", "tags"],
    )
    raw = jobs.file_path(job).read_bytes()  # type: ignore[union-attr]
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 (李伟) only with the byte-order mark
    rows = {r["customer number"]: r for r in csv.DictReader(io.StringIO(_text(job)))}
    assert set(rows) == {world["wei"].customer_number, world["evil"].customer_number}  # not the peer's
    wei = rows[world["wei"].customer_number]
    assert wei["display name"] == "李伟" and wei["Hobby"] == "chess" and wei["tags"] == "VIP"
    assert "138****8000" in wei["phones"] and "13800138000" not in raw.decode("utf-8-sig")
    assert wei["birth date"].startswith("****") and wei["emails"] == "li.wei@example.cn"
    evil = rows[world["evil"].customer_number]
    assert evil["display name"].startswith("'=HYPERLINK")  # a text, not a formula
    assert evil["phones"] == "+49 30 123456"  # a company's switchboard: not masked, not neutralised
    assert job.result["rows"] == 2 and job.done == job.total == 2
    log = AccessLog.objects.get(kind="export")
    assert log.user_id == world["boss"].pk and sorted(log.customer_ids) == sorted(rows_id(world))
    assert log.result_count == 2 and "csv" in log.filters


def rows_id(world: dict[str, Any]) -> list[int]:
    return [world["wei"].pk, world["evil"].pk]


def test_cleared_users_get_the_values_and_hidden_fields_come_out_empty(world):
    job = _export(
        with_clearance(world["boss"]),
        "json",
        columns=["customer_number", "phones", "birth_date", "id_document_number", "custom.hobby"],
    )
    wei = {r["customer_number"]: r for r in json.loads(_text(job))}[world["wei"].customer_number]
    assert wei["phones"] == "+86 138 0013 8000" and wei["birth_date"] == "1990-03-12"
    assert wei["id_document_number"] == "110101199003121234" and wei["custom.hobby"] == "chess"
    masking.save_field_rules(
        actor=None,
        role=Role.objects.get(code="sales_manager"),
        object_type="customer",
        rules={"custom.hobby": FieldAccess.HIDDEN},
    )
    hider = make_user("hider", "sales_manager")
    from kith.security.services import set_visibility_default

    set_visibility_default("customer", "read")
    job = _export(hider, "json", columns=["customer_number", "custom.hobby"])
    wei = {r["customer_number"]: r for r in json.loads(_text(job))}[world["wei"].customer_number]
    assert wei["custom.hobby"] is None  # hidden from this role


def test_xlsx_keeps_types_and_neutralises_formulas(world):
    cleared = with_clearance(world["boss"])
    job = _export(cleared, "xlsx", columns=["display_name", "birth_date", "created_at"])
    sheet = openpyxl.load_workbook(jobs.file_path(job)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header == ("display name", "birth date", "created") and sheet["A1"].font.bold
    by_name = {r[0]: r for r in rows}
    assert by_name["李伟"][1].date().isoformat() == "1990-03-12"  # a date cell, not text
    formula_cells = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == [] and '\'=HYPERLINK("http://x.example","click")' in by_name


def test_vcard_reads_back_in_an_address_book(world):
    masked = {c.uid.value: c for c in vobject.readComponents(_text(_export(world["boss"], "vcf")))}
    assert not hasattr(masked[world["wei"].customer_number], "bday")  # a masked date is not a date
    assert masked[world["wei"].customer_number].tel.value.startswith("+86 138****")
    job = _export(with_clearance(world["boss"]), "vcf")
    cards = {c.uid.value: c for c in vobject.readComponents(_text(job))}
    wei = cards[world["wei"].customer_number]
    assert wei.fn.value == "李伟" and wei.n.value.family == "李" and wei.n.value.given == "伟"
    assert wei.tel.value == "+86 138 0013 8000" and wei.tel.type_param == "CELL"
    assert wei.email.value == "li.wei@example.cn" and wei.bday.value == "1990-03-12"
    assert wei.categories.value == ["VIP"]
    assert cards[world["evil"].customer_number].org.value == ['=HYPERLINK("http://x.example","click")']


def test_filters_select_the_rows_and_the_search_text_is_kept_encrypted(world):
    job = _export(world["boss"], filters={"q": [PHONE], "kind": "person"}, columns=["customer_number"])
    rows = list(csv.DictReader(io.StringIO(_text(job))))
    assert [r["customer number"] for r in rows] == [world["wei"].customer_number]
    stored = json.dumps(Job.objects.get(pk=job.pk).params)
    assert PHONE not in stored and "13800138000" not in stored and "enc1:" in stored
    assert PHONE not in AccessLog.objects.get(kind="export").query


def test_bad_requests_get_field_errors_and_no_job(world):
    with pytest.raises(ValidationError) as caught:
        start_customer_export(
            actor=world["boss"],
            file_format="pdf",
            columns=["display_name", "shoe_size"],
            filters={"status": "bogus"},
        )
    assert set(caught.value.message_dict) == {"format", "columns", "status"}
    catalogues.custom_field_create(
        actor=None, data={"key": "passport", "label": "Passport", "field_type": "text", "is_sensitive": True}
    )
    with pytest.raises(ValidationError) as caught:
        start_customer_export(actor=world["boss"], file_format="csv", filters={"cf_passport": "E1"})
    assert "cf_passport" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        start_customer_export(actor=world["rep"], file_format="csv", filters={})  # reps may not export
    assert not Job.objects.exists()


def test_a_permission_withdrawn_before_the_run_fails_the_job(world):
    job = start_customer_export(actor=world["boss"], file_format="csv", filters={})
    from kith.security import services as security

    security.set_roles(world["boss"], Role.objects.filter(code="sales_rep"))
    world["boss"].refresh_from_db()
    jobs.run(job.pk)
    job.refresh_from_db()
    assert (
        job.status == JobStatus.FAILED and job.file_name == "" and not AccessLog.objects.filter(kind="export")
    )


def test_export_page_starts_a_job_with_the_lists_filters(client, world):
    client.force_login(world["boss"])
    listing = client.get(reverse("parties:customer_list")).content.decode()
    assert reverse("parties:customer_export") in listing
    htmx = client.get(reverse("parties:customer_export") + "?status=active&q=", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"].endswith("/customers/export/?status=active&q=")
    page = client.get(reverse("parties:customer_export") + "?status=active")
    assert page.status_code == 200 and 'name="status" value="active"' in page.content.decode()
    bad = client.post(
        reverse("parties:customer_export"), {"status": "active", "format": "pdf", "columns": ["display_name"]}
    )
    assert bad.status_code == 400 and "field-error" in bad.content.decode() and not Job.objects.exists()
    response = client.post(
        reverse("parties:customer_export"),
        {"status": "active", "format": "csv", "columns": ["display_name", "status"]},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.params["filters"] == {"status": ["active"]} and job.params["columns"] == [
        "display_name",
        "status",
    ]
    client.force_login(world["rep"])
    assert (
        reverse("parties:customer_export")
        not in client.get(reverse("parties:customer_list")).content.decode()
    )
    assert client.get(reverse("parties:customer_export")).status_code == 403


def test_export_api(world):
    api = APIClient()
    api.force_authenticate(world["boss"])
    options = api.get("/api/v1/customers/export/").json()
    assert "xlsx" in options["formats"] and {"key": "custom.hobby", "label": "Hobby"} in options["columns"]
    bad = api.post("/api/v1/customers/export/", {"format": "pdf"}, format="json")
    assert bad.status_code == 400 and "format" in bad.json()["errors"]
    bad = api.post("/api/v1/customers/export/", {"filters": {"status": "bogus"}}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    made = api.post(
        "/api/v1/customers/export/", {"format": "json", "filters": {"kind": "company"}}, format="json"
    )
    assert made.status_code == 202 and made.json()["status"] == "queued"
    job = Job.objects.get(pk=made.json()["id"])
    assert job.source == "api"
    jobs.run(job.pk)
    body = api.get(made.json()["url"]).json()
    assert body["status"] == "succeeded" and body["done"] == 1
    content = api.get(body["file_url"]).getvalue()
    assert [r["customer_number"] for r in json.loads(content)] == [world["evil"].customer_number]
    rep = APIClient()
    rep.force_authenticate(world["rep"])
    assert rep.post("/api/v1/customers/export/", {}, format="json").status_code == 403


def test_a_read_only_token_may_export(world):
    from kith.security.tokens import create_token

    _token, key = create_token(
        actor=world["boss"], data={"name": "reader", "scopes": ["customers:read", "jobs:read"]}
    )
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.post("/api/v1/customers/export/", {}, format="json").status_code == 202
    assert api.post("/api/v1/customers/", {}, format="json").status_code == 403  # still no writing


def test_command_line_export(world, tmp_path):
    out = io.StringIO()
    target = tmp_path / "out.csv"
    call_command("export", user="boss", format="csv", filter=["kind=company"], output=str(target), stdout=out)
    assert "1 customers written" in out.getvalue()
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [r["customer number"] for r in rows] == [world["evil"].customer_number]
    assert Job.objects.get().source == "cli"
    with pytest.raises(Exception, match="status"):
        call_command("export", user="boss", filter=["status=bogus"], output=str(target))
    with pytest.raises(Exception, match=r"permission|may not"):
        call_command("export", user="rep", output=str(target))


def test_an_export_file_needs_the_export_permission_when_downloaded(client, world):
    job = _export(world["boss"])
    client.force_login(world["boss"])
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 200
    from kith.security import services as security

    security.set_roles(world["boss"], Role.objects.filter(code="sales_rep"))  # export taken away
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 403


def test_large_exports_read_in_chunks_mask_per_kind_and_honour_access_grants(world, monkeypatch):
    """Chunks smaller than the list (dense id ranges and sparse ones, with customers the user may not see
    in between), masking decided per kind of customer, one customer opened by an approved request."""
    from kith.audit.models import AuditEntry
    from kith.parties.services import exports
    from kith.security import access_requests

    monkeypatch.setattr(exports, "CHUNK", 3)
    boss, peer = world["boss"], world["peer"]
    made = []
    for i in range(7):
        made.append(person(boss, given_name=f"P{i}", phones=[{"number": f"+86138001380{i:02d}"}]))
        person(peer, given_name=f"Hidden{i}")  # a customer boss does not see between every two
        if i % 3 == 0:
            made.append(company(boss, legal_name=f"Firm {i}", phones=[{"number": f"+49301234{i:02d}"}]))
    opened = next(c for c in made if c.given_name == "P2")
    request = access_requests.request_access(
        actor=boss, object_type="customer", record=opened, purpose="Checking the invoice address"
    )
    access_requests.decide(actor=peer, access_request=request, approve=True)
    job = _export(boss, columns=["customer_number", "kind", "phones"])
    rows = list(csv.DictReader(io.StringIO(_text(job))))
    numbers = [r["customer number"] for r in rows]
    expected = sorted([world["wei"], world["evil"], *made], key=lambda c: c.pk)  # in the order created
    assert numbers == [c.customer_number for c in expected] and job.result["rows"] == len(expected)
    by_number = {r["customer number"]: r for r in rows}
    for customer in made:
        phones = by_number[customer.customer_number]["phones"]
        if customer.kind == "company":
            assert phones.startswith("+49 30 1234") and "*" not in phones
        elif customer.pk == opened.pk:
            assert phones == "+86 138 0013 8002"  # the grant opens it
        else:
            assert phones.startswith("+86 138****")
    seen = AuditEntry.objects.filter(action="view_sensitive", object_id=str(opened.pk))
    assert seen.count() == 1 and seen.get().changes["channel"] == "export"


def test_a_search_export_keeps_the_search_order_across_pages(world, monkeypatch):
    from kith.parties.services import exports

    monkeypatch.setattr(exports, "PAGE", 2)
    made = [person(world["boss"], given_name=f"Zed{i}", family_name="Searchable") for i in range(5)]
    job = _export(world["boss"], filters={"q": "Searchable"}, columns=["customer_number"])
    numbers = [r["customer number"] for r in csv.DictReader(io.StringIO(_text(job)))]
    assert numbers == [c.customer_number for c in reversed(made)]  # newest first, as the list shows them


def test_phone_text_is_format_phone_for_every_region_and_type():
    """The export's quick formatter writes exactly what ``format_phone`` (phonenumbers) writes."""
    import random

    import phonenumbers

    from kith.parties.services.contact_points import format_phone
    from kith.parties.services.exports import _PhoneFormatter

    quick = _PhoneFormatter()
    rng = random.Random(3)
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.TOLL_FREE,
            phonenumbers.PhoneNumberType.VOIP,
        )
    ]
    examples += [
        phonenumbers.example_number_for_non_geo_entity(code)
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    ]
    numbers = {
        phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) for n in examples if n is not None
    }
    for e164 in sorted(numbers):  # the same shapes with other digits, one digit shorter and longer
        digits = e164[1:]
        numbers.add("+" + digits[:3] + "".join(rng.choice("0123456789") for _ in digits[3:]))
        numbers.add(e164[:-1])
        numbers.add(e164 + str(rng.randrange(10)))
    numbers |= {"", "+", "+0", "+1", "+12", "+0123456", "+8613800138000x", "13800138000", "+390612345678"}
    numbers |= {"+5491123456789", "+61 2 9374 4000", "+79991234567", "+4930123456", "+８６138001"}
    numbers |= {f"+1{rng.randrange(2, 10)}{rng.randrange(10**9):09d}" for _ in range(500)}
    assert len(numbers) > 2000
    for number in sorted(numbers):
        assert quick(number) == format_phone(number), number
    assert quick("+8613800138000") == quick("+8613800138000") == "+86 138 0013 8000"  # remembered form
