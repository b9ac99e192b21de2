"""Deals imported from files: customers by number (only those the user may see), every row through the
opportunity service, per-row errors, dry run, and a second run of the same file creates nothing."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from kith.sales.imports.opportunities import import_opportunities
from kith.sales.models import Opportunity
from kith.sales.tests import opportunity_factories as factories
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def customers(user):  # type: ignore[no-untyped-def]
    return (
        factories.customer(owner=user, legal_name="Acme Trading Ltd"),
        factories.customer(owner=user, legal_name="Globex Corporation"),
    )


def deals_file(customers) -> str:  # type: ignore[no-untyped-def]
    acme, globex = (c.customer_number for c in customers)
    return (
        "Customer number,Name,Pipeline,Stage,Amount,Currency,Discount %,Expected close date,Owner,"
        "Next step,Competitors\n"
        f'{acme},Fibre for the head office,,,"1,200.50",EUR,5,2030-03-31,,Call the CFO,Telco A\n'
        f"{acme.lower()},Support contract,,,800,EUR,,,manager,,\n"
        f"{globex},Routers,,,99.90,EUR,10%,,,,\n"
        "C-NOPE-999,Unknown customer,,,100,EUR,,,,,\n"
        f"{globex},Bad amount,,,abc,EUR,,,,,\n"
    )


def test_good_rows_are_created_bad_rows_reported_and_a_second_run_creates_nothing(tmp_path, user, customers):
    path = write(tmp_path, deals_file(customers))
    result = import_opportunities(path, actor=user)
    assert (result.rows, result.created, result.unchanged, result.refused) == (5, 3, 0, 2)
    assert {(e.row, e.column) for e in result.errors} == {(5, "Customer number"), (6, "Amount")}
    fibre = Opportunity.objects.get(name="Fibre for the head office")
    assert fibre.customer == customers[0] and fibre.owner == user
    assert (fibre.amount, fibre.currency, fibre.discount_percent) == (
        Decimal("1200.50"),
        "EUR",
        Decimal("5"),
    )
    assert str(fibre.expected_close_date) == "2030-03-31"
    assert (fibre.next_step, fibre.competitors) == ("Call the CFO", "Telco A")
    assert fibre.pipeline == factories.pipeline() and fibre.stage.kind == "open"
    assert Opportunity.objects.get(name="Routers").discount_percent == Decimal("10")
    assert Opportunity.objects.count() == 3

    again = import_opportunities(path, actor=user)
    assert (again.created, again.unchanged, again.refused) == (0, 3, 2)
    assert Opportunity.objects.count() == 3


def test_a_dry_run_reports_the_same_and_saves_nothing(tmp_path, user, customers):
    path = write(tmp_path, deals_file(customers))
    dry = import_opportunities(path, actor=user, dry_run=True)
    assert dry.dry_run and (dry.created, dry.refused) == (3, 2)
    assert not Opportunity.objects.exists()


def test_the_import_permission_is_needed(tmp_path, customers):
    rep = make_user("rep", "sales_rep")
    with pytest.raises(PermissionDenied):
        import_opportunities(write(tmp_path, deals_file(customers)), actor=rep)
    assert not Opportunity.objects.exists()


def test_a_customer_the_user_may_not_see_is_a_row_error(tmp_path, user):
    other = make_user("other", "sales_manager")
    hidden = factories.customer(owner=other, legal_name="Hidden GmbH")
    text = f"customer number,name,amount,currency\n{hidden.customer_number},Secret deal,100,EUR\n"
    result = import_opportunities(write(tmp_path, text), actor=user)
    assert (result.created, result.refused) == (0, 1)
    assert [(e.row, e.column) for e in result.errors] == [(2, "customer number")]
    assert not Opportunity.objects.exists()


def test_the_command_writes_the_error_report(tmp_path, user, customers):
    errors = tmp_path / "errors.csv"
    out, err = StringIO(), StringIO()
    path = write(tmp_path, deals_file(customers))
    call_command(
        "import_opportunities", str(path), user=user.username, errors=str(errors), stdout=out, stderr=err
    )
    assert '"created": 3' in out.getvalue() and '"refused": 2' in out.getvalue()
    assert "row 6, Amount" in err.getvalue()
    lines = errors.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,reason"
    assert [line.split(",", 2)[:2] for line in lines[1:]] == [["5", "Customer number"], ["6", "Amount"]]
    with pytest.raises(CommandError, match="may not import"):
        call_command("import_opportunities", str(path), user=make_user("rep", "sales_rep").username)
