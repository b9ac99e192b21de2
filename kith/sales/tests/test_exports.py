"""Sales exports: the file's contents in each format (headers, rows, Decimal money with its currency,
formulas neutralised), the list's filters and visibility, the export permission (asked and at run time),
the access log, the Export button and its page, the API and the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kith.audit.models import AccessLog
from kith.jobs import services as jobs
from kith.jobs.models import Job, JobStatus
from kith.sales.services import exports
from kith.sales.services.consumption import consumption_add
from kith.sales.services.exports import start_sales_export
from kith.sales.tests import lead_factories
from kith.sales.tests import opportunity_factories as deals
from kith.sales.tests import order_factories as f
from kith.security import services as security
from kith.security.models import Role
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x.example","click")'


@pytest.fixture(autouse=True)
def jobs_folder(settings: Any, tmp_path: Any) -> None:
    settings.KITH_JOBS_DIR = tmp_path / "jobs"


@pytest.fixture
def world() -> dict[str, Any]:
    boss = f.manager("boss")  # sales manager: holds export on the sales types
    rep = f.rep("rep", manager=boss)  # sales representative: views, may not export
    peer = f.manager("peer")  # another manager, outside boss's reach
    acme = f.customer(owner=rep, legal_name="Acme Trading Ltd")
    evil = f.customer(owner=rep, legal_name="Evil Corp")
    other = f.customer(owner=peer, legal_name="Peer Holdings")
    mine = deals.opportunity(actor=rep, customer=acme, name="Fibre for the head office", amount="1234.50")
    formula = deals.opportunity(actor=rep, customer=evil, name=FORMULA, amount="10.00", currency="USD")
    hidden = deals.opportunity(actor=peer, customer=other, name="Peer's secret deal", amount="99.00")
    return {
        "boss": boss,
        "rep": rep,
        "peer": peer,
        "acme": acme,
        "evil": evil,
        "other": other,
        "mine": mine,
        "formula": formula,
        "hidden": hidden,
    }


def _export(user: Any, export_type: str, file_format: str = "csv", **filters: Any) -> Job:
    job = start_sales_export(actor=user, export_type=export_type, file_format=file_format, filters=filters)
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.message
    return job


def _csv(job: Job) -> list[dict[str, str]]:
    text = jobs.file_path(job).read_text(encoding="utf-8-sig")  # type: ignore[union-attr]
    return list(csv.DictReader(io.StringIO(text)))


def test_opportunity_csv_holds_the_visible_deals_with_money_and_neutralised_formulas(world):
    job = _export(world["boss"], "opportunity")
    raw = jobs.file_path(job).read_bytes()  # type: ignore[union-attr]
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark: Excel reads UTF-8
    header = raw.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:5] == ["ID", "Name", "Customer number", "Customer", "Pipeline"]
    assert {"Amount", "Currency", "Owner", "Status", "Stage"} <= set(header)
    rows = {r["ID"]: r for r in _csv(job)}
    # the peer's deal is not visible to boss, so it does not come out
    assert set(rows) == {str(world["mine"].pk), str(world["formula"].pk)}
    assert "Peer's secret deal" not in raw.decode("utf-8-sig")
    mine = rows[str(world["mine"].pk)]
    assert mine["Name"] == "Fibre for the head office"
    assert mine["Customer number"] == world["acme"].customer_number and mine["Customer"] == "Acme Trading Ltd"
    assert mine["Amount"] == "1234.50" and mine["Currency"] == "EUR"  # exact, two places, with its currency
    assert mine["Owner"] == "rep" and mine["Status"] == "open"
    evil = rows[str(world["formula"].pk)]
    assert evil["Name"] == "'" + FORMULA  # a text, never a formula
    assert evil["Amount"] == "10.00" and evil["Currency"] == "USD"
    assert job.result["rows"] == 2 and job.done == job.total == 2
    assert job.result["download_name"].startswith("opportunities-") and job.result["download_name"].endswith(
        ".csv"
    )


def test_every_export_is_logged_with_the_customers_of_its_rows(world):
    _export(world["boss"], "opportunity", status="open")
    log = AccessLog.objects.get(kind="export")
    assert log.user_id == world["boss"].pk
    assert sorted(log.customer_ids) == sorted([world["acme"].pk, world["evil"].pk])
    assert world["other"].pk not in log.customer_ids  # the peer's customer was not exported
    assert log.result_count == 2 and log.customer_count == 2
    assert "type=opportunity" in log.filters and "status=open" in log.filters and "format=csv" in log.filters


def test_json_and_xlsx_keep_money_exact(world):
    order = f.order(
        actor=world["rep"],
        customer=world["acme"],
        lines=[
            f.line(description="Router X200", quantity="3", unit_price="99.99", tax_rate="19"),
            f.line(description="@SUM(A1:A9)", quantity="1", unit_price="0.10"),
        ],
    )
    job = _export(world["boss"], "order", "json")
    rows = json.loads(jobs.file_path(job).read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert [r["number"] for r in rows] == [order.number]
    assert rows[0]["total"] == str(order.total) and rows[0]["currency"] == "EUR"
    assert Decimal(rows[0]["total"]) == Decimal("357.06")  # 299.97 + 19 % tax = 356.96, + 0.10
    assert rows[0]["customer_number"] == world["acme"].customer_number

    job = _export(world["boss"], "order_line", "xlsx")
    sheet = openpyxl.load_workbook(jobs.file_path(job)).active  # type: ignore[arg-type]
    values = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    header = list(values[0])
    assert header[:3] == ["Order", "Customer number", "Customer"] and "Unit price" in header
    lines = [dict(zip(header, row, strict=True)) for row in values[1:]]
    assert [line["Description"] for line in lines] == ["Router X200", "'@SUM(A1:A9)"]
    assert lines[0]["Unit price"] == pytest.approx(99.99) and isinstance(lines[0]["Unit price"], float | int)
    assert lines[0]["Total"] == pytest.approx(356.96) and lines[0]["Currency"] == "EUR"
    assert lines[0]["Quantity"] == 3 and lines[0]["Order"] == order.number


def test_quotes_one_row_per_document_or_per_line(world):
    quote = f.accepted_quote(actor=world["rep"], customer=world["acme"])
    f.accepted_quote(actor=world["peer"], customer=world["other"])  # not boss's to see
    documents = _csv(_export(world["boss"], "quote"))
    assert len(documents) == 1 and documents[0]["Number"] == quote.number
    assert documents[0]["Total"] == str(quote.total) and documents[0]["Status"] == "accepted"
    lines = _csv(_export(world["boss"], "quote_line", status="accepted"))
    assert [line["Description"] for line in lines] == ["Router X200", "Installation"]
    assert lines[0]["Unit price"] == "99.99" and lines[0]["Discount (%)"] == "10.00"
    assert {line["Quote"] for line in lines} == {quote.number}
    assert _csv(_export(world["boss"], "quote_line", status="draft")) == []  # the list's filter applies


def test_the_lists_filters_apply_and_bad_ones_are_field_errors(world):
    rows = _csv(_export(world["boss"], "opportunity", customer=world["evil"].customer_number))
    assert [r["ID"] for r in rows] == [str(world["formula"].pk)]
    with pytest.raises(ValidationError) as error:
        start_sales_export(
            actor=world["boss"],
            export_type="opportunity",
            file_format="pdf",
            filters={"status": "bogus", "close_from": "yesterday", "pipeline": "x"},
        )
    assert {"format", "status", "close_from", "pipeline"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        start_sales_export(actor=world["boss"], export_type="spaceships", file_format="csv")
    assert "type" in error.value.message_dict
    assert Job.objects.count() == 1  # the refused ones started nothing


def test_exporting_needs_the_export_permission_when_asked_and_when_run(world):
    with pytest.raises(PermissionDenied):
        start_sales_export(actor=world["rep"], export_type="opportunity", file_format="csv")
    job = start_sales_export(actor=world["boss"], export_type="opportunity", file_format="csv")
    security.set_roles(world["boss"], Role.objects.filter(code="sales_rep"))  # export taken away meanwhile
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.message and not job.file_name
    assert not AccessLog.objects.filter(kind="export").exists()


def test_the_file_needs_the_export_permission_of_its_type_when_downloaded(client, world):
    job = _export(world["boss"], "opportunity")
    client.force_login(world["boss"])
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 200
    role = Role.objects.create(code="deals_only", name="Deals only", permissions=["opportunity.view"])
    security.set_roles(world["boss"], Role.objects.filter(pk=role.pk))
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 403


def test_an_administrator_downloading_someone_elses_export_is_logged(client, world, admin_user):
    job = _export(world["boss"], "opportunity")
    client.force_login(world["boss"])
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 200
    assert AccessLog.objects.filter(kind="export").count() == 1  # the run's, in the owner's name
    client.force_login(admin_user)  # an administrator sees every job
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 200
    log = AccessLog.objects.filter(kind="export", user=admin_user).get()
    assert log.filters == f"job={job.pk}&kind=sales.export.opportunity&exported_by={world['boss'].pk}"


def test_rows_are_written_in_chunks_with_progress(world, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    for n in range(3):
        deals.opportunity(actor=world["rep"], customer=world["acme"], name=f"Deal {n}")
    seen: list[tuple[int, int | None]] = []
    job = start_sales_export(actor=world["boss"], export_type="opportunity", file_format="csv")
    jobs.run(job.pk, on_change=lambda done, total: seen.append((done, total)))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.done == job.total == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert len(_csv(job)) == 5


def test_leads_search_text_is_kept_encrypted_in_the_job(world):
    lead_factories.lead(actor=world["rep"], email="anna@berg.example", owner=world["rep"].pk)
    lead_factories.lead(
        actor=world["peer"], given_name="Zed", email="zed@example.com", owner=world["peer"].pk
    )
    job = start_sales_export(
        actor=world["boss"], export_type="lead", file_format="csv", filters={"q": "anna@berg"}
    )
    assert "anna@berg" not in json.dumps(job.params)
    jobs.run(job.pk)
    job.refresh_from_db()
    rows = _csv(job)
    assert [(r["Name"], r["Email"]) for r in rows] == [("Anna Berg", "anna@berg.example")]


def test_products_price_lists_and_consumption(world):
    from kith.sales.tests import factories as catalogue

    admin = make_user("chief", is_superuser=True)
    product = catalogue.product(actor=admin, sku="-RISKY", name="Router", list_price="149.90", currency="EUR")
    catalogue.price_list(
        actor=admin,
        name="Dealers",
        currency="EUR",
        items=[{"product": product.pk, "unit_price": "120.00", "min_quantity": "10"}],
    )
    rows = _csv(_export(admin, "product"))
    assert rows == [
        {
            "SKU": "'-RISKY",
            "Name": "Router",
            "Model": "",
            "Category": "",
            "Unit": "pcs",
            "List price": "149.90",
            "Currency": "EUR",
            "Tax rate (%)": rows[0]["Tax rate (%)"],
            "Active": "true",
        }
    ]
    items = _csv(_export(admin, "price_list_item"))
    assert items == [
        {
            "Price list": "Dealers",
            "SKU": "'-RISKY",
            "Product": "Router",
            "From quantity": "10.000",
            "Unit price": "120.00",
            "Currency": "EUR",
        }
    ]
    today = timezone.localdate()
    for customer, actor in ((world["acme"], admin), (world["other"], world["peer"])):
        consumption_add(
            actor=actor,
            data={
                "customer": customer.customer_number,
                "occurred_on": (today - dt.timedelta(days=3)).isoformat(),
                "description": "Fibre usage",
                "quantity": "7",
                "unit_price": "1.245",
                "currency": "EUR",
            },
        )
    lines = _csv(_export(world["boss"], "consumption"))  # the customers boss sees: not the peer's
    assert [(r["Customer number"], r["Amount"], r["Currency"]) for r in lines] == [
        (world["acme"].customer_number, "8.72", "EUR")
    ]
    with pytest.raises(ValidationError) as error:
        start_sales_export(
            actor=world["boss"], export_type="consumption", file_format="csv", filters={"from": "soon"}
        )
    assert "from" in error.value.message_dict


# --- the pages --------------------------------------------------------------------------------------


def test_the_export_button_posts_the_lists_filters_and_opens_the_job(client, world):
    client.force_login(world["boss"])
    page = client.get(reverse("sales:opportunity_list"), {"status": "open", "page": "1"})
    html = page.content.decode()
    assert 'action="/sales/exports/"' in html
    assert (
        '<input type="hidden" name="status" value="open">' in html
        and 'name="page"' not in html.split('action="/sales/exports/"')[1].split("</form>")[0]
    )
    response = client.post(
        reverse("sales:export"), {"type": "opportunity", "format": "xlsx", "status": "open", "colour": "red"}
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    # what the list does not read is dropped (as the page ignores it)
    assert job.kind == "sales.export.opportunity" and job.params["filters"] == {"status": ["open"]}
    assert job.params["format"] == "xlsx"
    job_page = client.get(response["Location"])
    assert job_page.status_code == 200 and "Export of opportunities (XLSX)" in job_page.content.decode()
    quotes = client.get(reverse("sales:quote_list")).content.decode()
    assert 'value="quote_line"' in quotes  # documents or their lines


def test_the_export_page_refuses_without_permission_and_reports_bad_filters(client, world):
    client.force_login(world["rep"])
    assert 'action="/sales/exports/"' not in client.get(reverse("sales:opportunity_list")).content.decode()
    assert client.post(reverse("sales:export"), {"type": "opportunity", "format": "csv"}).status_code == 403
    client.force_login(world["boss"])
    response = client.post(
        reverse("sales:export"), {"type": "order", "format": "csv", "status": "bogus"}, follow=True
    )
    assert response.status_code == 200 and response.redirect_chain[0][0].startswith(
        reverse("sales:order_list")
    )
    assert "status:" in response.content.decode()
    assert client.post(reverse("sales:export"), {"type": "nope"}).status_code == 404
    assert client.get(reverse("sales:export")).status_code == 405
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("page", "query", "export_type", "lines"),
    [
        ("sales:lead_list", {}, "lead", None),
        ("sales:opportunity_list", {}, "opportunity", None),
        ("sales:quote_list", {}, "quote", "quote_line"),
        ("sales:order_list", {}, "order", "order_line"),
        ("sales:invoice_list", {}, "invoice", None),
        ("sales:contract_list", {}, "contract", None),
        ("sales:product_list", {}, "product", None),
        ("sales:price_list_list", {}, "price_list", "price_list_item"),
        ("sales:consumption_stats", {"period": "month", "owner": "me"}, "consumption", None),
    ],
)
def test_every_sales_list_has_the_export_button(client, page, query, export_type, lines):
    chief = make_user("chief", is_superuser=True)
    client.force_login(chief)
    query = {key: str(chief.pk) if value == "me" else value for key, value in query.items()}
    html = client.get(reverse(page), query).content.decode()
    form = html.split('action="/sales/exports/"')[1].split("</form>")[0]
    if lines:
        assert f'<option value="{export_type}">' in form and f'<option value="{lines}">' in form
    else:
        assert f'<input type="hidden" name="type" value="{export_type}">' in form
    for key, value in query.items():
        assert f'<input type="hidden" name="{key}" value="{value}">' in form


# --- the API and the command line -------------------------------------------------------------------


def test_the_api_starts_an_export_and_serves_its_file(world):
    api = APIClient()
    api.force_authenticate(world["boss"])
    options = api.get("/api/v1/sales/exports/").json()
    types = {t["type"]: t for t in options["types"]}
    assert {"opportunity", "order", "order_line", "quote_line"} <= set(types)
    assert {"key": "amount", "label": "Amount"} in types["opportunity"]["columns"]
    bad = api.post("/api/v1/sales/exports/", {"type": "opportunity", "format": "pdf"}, format="json")
    assert bad.status_code == 400 and "format" in bad.json()["errors"]
    bad = api.post(
        "/api/v1/sales/exports/", {"type": "opportunity", "filters": {"status": "bogus"}}, format="json"
    )
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    made = api.post(
        "/api/v1/sales/exports/",
        {"type": "opportunity", "format": "json", "filters": {"customer": world["acme"].customer_number}},
        format="json",
    )
    assert made.status_code == 202 and made.json()["status"] == "queued"
    assert made.json()["kind"] == "sales.export.opportunity"
    job = Job.objects.get(pk=made.json()["id"])
    assert job.source == "api"
    jobs.run(job.pk)
    body = api.get(made.json()["url"]).json()
    assert body["status"] == "succeeded" and body["done"] == 1
    content = json.loads(api.get(body["file_url"]).getvalue())
    assert [(r["name"], r["amount"], r["currency"]) for r in content] == [
        ("Fibre for the head office", "1234.50", "EUR")
    ]
    rep = APIClient()
    rep.force_authenticate(world["rep"])
    refused = rep.post("/api/v1/sales/exports/", {"type": "opportunity"}, format="json")
    assert refused.status_code == 403 and refused.json()
    assert rep.get("/api/v1/sales/exports/").json()["types"] == []  # nothing the rep may export


def test_a_read_only_sales_token_may_export(world):
    from kith.security.tokens import create_token

    _token, key = create_token(actor=world["boss"], data={"name": "reader", "scopes": ["sales:read"]})
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.post("/api/v1/sales/exports/", {"type": "order"}, format="json").status_code == 202


def test_command_line_export(world, tmp_path):
    target = tmp_path / "deals.csv"
    out = io.StringIO()
    call_command(
        "export_sales",
        "opportunity",
        str(target),
        user="boss",
        format="csv",
        filter=[f"customer={world['acme'].customer_number}"],
        stdout=out,
    )
    assert "1 rows written" in out.getvalue()
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [(r["Name"], r["Amount"]) for r in rows] == [("Fibre for the head office", "1234.50")]
    assert Job.objects.get().source == "cli"
    assert AccessLog.objects.get(kind="export").customer_ids == [world["acme"].pk]
    with pytest.raises(CommandError, match="status"):
        call_command("export_sales", "opportunity", str(target), user="boss", filter=["status=bogus"])
    with pytest.raises(CommandError, match=r"(?i)permission|may not"):
        call_command("export_sales", "opportunity", str(target), user="rep")
    with pytest.raises(CommandError, match="no active user"):
        call_command("export_sales", "opportunity", str(target), user="nobody")


def test_the_schema_is_valid_and_lists_the_export_endpoint(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    assert "  /api/v1/sales/exports/:" in schema
    assert "sales_exports_create" in schema and "SalesExportRequest" in schema
