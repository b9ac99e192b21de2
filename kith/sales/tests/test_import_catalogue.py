"""Products and price-list entries imported from files: matched by SKU, through the services, per-row
errors, dry run, and a second run of the same file changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from kith.audit.models import AuditEntry
from kith.sales.imports.catalogue import ReadError, RowError, import_prices, import_products
from kith.sales.models import PriceList, PriceListItem, Product
from kith.sales.tests import factories
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

PRODUCTS = (
    "SKU;Name;Model;Unit;Category;List price;Currency;Tax rate;Active\n"
    "SIM-100;SIM card;S1;pcs;Telecom;10.00;EUR;20;yes\n"
    "rtr-200;Router;R2;pcs;Hardware;1,149.90;EUR;20%;no\n"
    "SUP-1;Support hour;;hour;Services;80;EUR;0;1\n"
)


def write(tmp_path: Path, text: str, name: str = "products.csv", *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def audit_count() -> int:
    return AuditEntry.objects.filter(object_type__startswith="sales.").count()


def test_products_are_created_and_a_second_run_changes_nothing(tmp_path, user):
    path = write(tmp_path, PRODUCTS, bom=True)
    result = import_products(path, actor=user)
    assert (result.created, result.updated, result.unchanged, result.errors) == (3, 0, 0, [])
    router = Product.objects.get(sku="rtr-200")
    assert (router.name, router.model, router.category, router.list_price) == (
        "Router",
        "R2",
        "Hardware",
        Decimal("1149.90"),
    )
    assert router.tax_rate == Decimal("20.00") and router.is_active is False
    assert Product.objects.get(sku="SUP-1").unit == "hour"
    versions = dict(Product.objects.values_list("sku", "version"))
    entries = audit_count()
    assert entries >= 3  # each create recorded by the audit trail

    again = import_products(path, actor=user)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 3, [])
    assert dict(Product.objects.values_list("sku", "version")) == versions
    assert audit_count() == entries


def test_a_known_sku_is_updated_through_the_service_with_the_cells_that_differ(tmp_path, user):
    factories.product(actor=user, sku="SIM-100", name="Old name", list_price="9.00", currency="EUR")
    before = Product.objects.get(sku="SIM-100")
    path = write(tmp_path, "sku,name,list price,category\nsim-100,SIM card,10.00,\n")
    result = import_products(path, actor=user)
    assert (result.created, result.updated, result.errors) == (0, 1, [])
    product = Product.objects.get(pk=before.pk)
    assert product.sku == "SIM-100"  # matched ignoring case: the stored spelling stays
    assert (product.name, product.list_price) == ("SIM card", Decimal("10.00"))
    assert product.tax_rate == before.tax_rate  # no column: unchanged
    assert product.version == before.version + 1  # through the service's optimistic locking
    update = AuditEntry.objects.filter(object_type="sales.product", action="update").latest("seq")
    assert set(update.changes) >= {"name", "list_price"}


def test_row_errors_name_the_row_and_column_and_the_other_rows_go_in(tmp_path, user):
    text = (
        "SKU,Name,List price,Currency,Tax rate,Active\n"
        "A-1,Good,1.00,EUR,0,yes\n"
        "A-2,Bad price,abc,EUR,0,yes\n"
        "A-3,Bad tax,1.00,EUR,150,yes\n"
        "A-4,Bad active,1.00,EUR,0,maybe\n"
        ",No SKU,1.00,EUR,0,yes\n"
        "A-1,Twice,2.00,EUR,0,yes\n"
        "A-6,,1.00,EUR,0,yes\n"
        "A-7,Bad currency,1.00,XXY,0,yes\n"
    )
    result = import_products(write(tmp_path, text), actor=user)
    assert result.created == 1 and result.refused == 7
    by_row = {(e.row, e.column) for e in result.errors}
    assert by_row == {
        (3, "List price"),
        (4, "Tax rate"),
        (5, "Active"),
        (6, "SKU"),
        (7, "SKU"),
        (8, "Name"),
        (9, "Currency"),
    }
    assert RowError(7, "SKU", "This SKU is already on row 2.") in result.errors
    assert list(Product.objects.values_list("sku", flat=True)) == ["A-1"]
    assert Product.objects.get(sku="A-1").name == "Good"


def test_a_dry_run_reports_the_same_and_saves_nothing(tmp_path, user):
    path = write(tmp_path, PRODUCTS + "BAD;;;;;x;EUR;0;yes\n")
    entries = audit_count()
    dry = import_products(path, actor=user, dry_run=True)
    assert dry.dry_run and (dry.created, dry.refused) == (3, 1)
    assert not Product.objects.exists() and audit_count() == entries
    real = import_products(path, actor=user)
    assert (real.created, real.refused) == (3, 1)
    assert {(e.row, e.column) for e in real.errors} == {(e.row, e.column) for e in dry.errors}


def test_xlsx_files_are_read_too(tmp_path, user):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["SKU", "Name", "List price", "Currency", "Tax rate"])
    sheet.append(["X-1", "From Excel", 12.5, "EUR", 7])
    path = tmp_path / "products.xlsx"
    book.save(path)
    result = import_products(path, actor=user)
    assert result.created == 1, result.errors
    product = Product.objects.get(sku="X-1")
    assert (product.list_price, product.tax_rate) == (Decimal("12.50"), Decimal("7.00"))


def test_the_import_permission_is_needed(tmp_path):
    rep = make_user("rep", "sales_rep")
    with pytest.raises(PermissionDenied):
        import_products(write(tmp_path, PRODUCTS), actor=rep)
    with pytest.raises(PermissionDenied):
        import_prices(write(tmp_path, "sku,price\nA,1\n", "p.csv"), actor=rep, price_list="Retail")
    assert not Product.objects.exists() and not PriceList.objects.exists()


def test_a_file_without_a_sku_column_is_refused(tmp_path, user):
    with pytest.raises(ReadError, match="no column"):
        import_products(write(tmp_path, "name,price\nX,1\n"), actor=user)


# --- price lists -----------------------------------------------------------------------------------


@pytest.fixture
def catalogue(user):
    factories.product(actor=user, sku="SIM-100", currency="EUR")
    factories.product(actor=user, sku="RTR-200", name="Router", list_price="150.00", currency="EUR")
    return user


def test_prices_make_the_list_and_a_second_run_changes_nothing(tmp_path, catalogue):
    text = (
        "Price list\tSKU\tPrice\tCurrency\tValid from\tValid to\tMin quantity\n"
        "Wholesale\tsim-100\t8.50\tEUR\t2026-01-01\t2026-12-31\t\n"
        "Wholesale\tSIM-100\t8.00\tEUR\t2026-01-01\t2026-12-31\t100\n"
        "Wholesale\tRTR-200\t120\tEUR\t\t\t\n"
    )
    path = write(tmp_path, text, "prices.csv")
    result = import_prices(path, actor=catalogue)
    assert (result.lists_created, result.created, result.errors) == (1, 3, [])
    wholesale = PriceList.objects.get(name="Wholesale")
    assert (wholesale.currency, wholesale.valid_from, wholesale.valid_to) == (
        "EUR",
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )
    prices = {
        (i.product.sku, i.min_quantity): i.unit_price
        for i in PriceListItem.objects.filter(price_list=wholesale).select_related("product")
    }
    assert prices == {
        ("SIM-100", Decimal(1)): Decimal("8.50"),
        ("SIM-100", Decimal(100)): Decimal("8.00"),
        ("RTR-200", Decimal(1)): Decimal("120.00"),
    }
    version, entries = wholesale.version, audit_count()
    again = import_prices(path, actor=catalogue)
    assert (again.created, again.updated, again.unchanged, again.lists_updated) == (0, 0, 3, 0)
    wholesale.refresh_from_db()
    assert wholesale.version == version and audit_count() == entries


def test_prices_update_a_named_list_and_keep_its_other_entries(tmp_path, catalogue):
    sim, router = Product.objects.get(sku="SIM-100"), Product.objects.get(sku="RTR-200")
    retail = factories.price_list(
        actor=catalogue,
        name="Retail",
        items=[{"product": sim.pk, "unit_price": "9.00"}, {"product": router.pk, "unit_price": "140.00"}],
    )
    path = write(tmp_path, "sku,price\nSIM-100,9.50\nNOPE,1\nRTR-200,-5\n", "prices.csv")
    result = import_prices(path, actor=catalogue, price_list="retail")
    assert (result.updated, result.lists_updated) == (1, 1)
    assert {(e.row, e.column) for e in result.errors} == {(3, "sku"), (4, "price")}
    prices = dict(PriceListItem.objects.filter(price_list=retail).values_list("product__sku", "unit_price"))
    assert prices == {"SIM-100": Decimal("9.50"), "RTR-200": Decimal("140.00")}
    retail.refresh_from_db()
    assert retail.version == 2


def test_price_rows_of_one_list_must_agree_on_its_validity(tmp_path, catalogue):
    text = (
        "sku,price,valid from,valid to,currency\n"
        "SIM-100,8,2026-01-01,2026-06-30,EUR\n"
        "RTR-200,100,2026-02-01,2026-06-30,EUR\n"
        "RTR-200,90,soon,,EUR\n"
    )
    result = import_prices(write(tmp_path, text, "prices.csv"), actor=catalogue, price_list="Spring")
    assert result.created == 1
    assert {(e.row, e.column) for e in result.errors} == {(3, "valid from"), (4, "valid from")}
    assert PriceList.objects.get(name="Spring").valid_from == dt.date(2026, 1, 1)


def test_a_new_list_needs_a_currency(tmp_path, catalogue):
    path = write(tmp_path, "sku,price\nSIM-100,1\n", "prices.csv")
    result = import_prices(path, actor=catalogue, price_list="Promo")
    assert [(e.row, e.column) for e in result.errors] == [(2, "")]
    assert "currency" in result.errors[0].reason and not PriceList.objects.exists()


def test_prices_need_a_list(tmp_path, catalogue):
    with pytest.raises(ReadError, match="price list"):
        import_prices(write(tmp_path, "sku,price\nSIM-100,1\n", "prices.csv"), actor=catalogue)


def test_a_price_dry_run_saves_nothing(tmp_path, catalogue):
    path = write(tmp_path, "sku,price,currency\nSIM-100,1,EUR\n", "prices.csv")
    result = import_prices(path, actor=catalogue, price_list="Promo", dry_run=True)
    assert (result.lists_created, result.created) == (1, 1)
    assert not PriceList.objects.exists()


# --- commands -------------------------------------------------------------------------------------


def test_the_commands_write_the_error_report(tmp_path, user):
    errors = tmp_path / "errors.csv"
    out, err = StringIO(), StringIO()
    path = write(tmp_path, PRODUCTS + "BAD;x;;;;abc;EUR;0;yes\n")
    call_command("import_products", str(path), user=user.username, errors=str(errors), stdout=out, stderr=err)
    assert '"created": 3' in out.getvalue() and '"refused": 1' in out.getvalue()
    assert "row 5, List price" in err.getvalue()
    assert errors.read_text(encoding="utf-8-sig").splitlines()[:2] == [
        "row,column,reason",
        "5,List price," + errors.read_text(encoding="utf-8-sig").splitlines()[1].split(",", 2)[2],
    ]
    prices = write(tmp_path, "sku,price,currency\nSIM-100,9,EUR\n", "prices.csv")
    out = StringIO()
    call_command(
        "import_prices", str(prices), user=user.username, price_list="Retail", dry_run=True, stdout=out
    )
    assert '"dry_run": true' in out.getvalue() and not PriceList.objects.exists()
    with pytest.raises(CommandError, match="may not import"):
        call_command("import_products", str(path), user=make_user("rep", "sales_rep").username)


# --- the upload page ------------------------------------------------------------------------------


def upload(name: str, text: str):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_the_upload_page_dry_runs_then_imports(signed_in):
    from django.urls import reverse

    url = reverse("sales:product_import")
    assert signed_in.get(url).status_code == 200
    assert url in signed_in.get(reverse("sales:product_list")).content.decode()
    bad = PRODUCTS + "BAD;x;;;;abc;EUR;0;yes\n"
    page = signed_in.post(url, {"file": upload("p.csv", bad), "dry_run": "on"})
    assert page.status_code == 200 and not Product.objects.exists()
    html = page.content.decode()
    assert "Dry run: nothing was saved" in html and "List price" in html and ">5<" in html
    page = signed_in.post(url, {"file": upload("p.csv", bad)})
    assert page.status_code == 200 and Product.objects.count() == 3
    page = signed_in.post(url, {"file": upload("p.csv", "name\nX\n")})
    assert page.status_code == 400 and "no column" in page.content.decode()


def test_the_upload_page_needs_the_import_permission(client):
    from django.urls import reverse

    client.force_login(make_user("rep", "sales_rep"))
    url = reverse("sales:product_import")
    assert client.get(url).status_code == 403
    assert client.post(url, {"file": upload("p.csv", PRODUCTS)}).status_code == 403
    assert not Product.objects.exists()
