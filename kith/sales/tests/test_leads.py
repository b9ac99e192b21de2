"""Lead services: validation, optimistic locking, status steps, reassignment, conversion with dedup."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.core.errors import ConflictError
from kith.parties.models import Customer
from kith.parties.services import customers as customer_services
from kith.sales.choices import LEAD_ALREADY_CONVERTED, LeadStatus
from kith.sales.models import Lead, Opportunity
from kith.sales.selectors import leads as lead_selectors
from kith.sales.services import leads as services
from kith.sales.tests.lead_factories import lead
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _region(settings):
    settings.KITH_DEFAULT_REGION = "CN"
    settings.KITH_DEFAULT_CURRENCY = "CNY"


def test_phone_is_e164_and_email_lower_cased(user):
    made = lead(user, email="Anna.Berg@Example.COM", phone="138 0013 8000")
    assert made.email == "anna.berg@example.com"
    assert made.phone == "+8613800138000" and made.phone_raw == "138 0013 8000"
    assert made.created_by == user and made.status == LeadStatus.NEW


def test_bad_input_gives_every_field_error_and_saves_nothing(user):
    with pytest.raises(ValidationError) as caught:
        services.lead_create(actor=user, data={"email": "not-an-email", "phone": "12", "source": "nope"})
    assert {"email", "phone", "source"} <= set(caught.value.message_dict)
    with pytest.raises(ValidationError) as caught:
        services.lead_create(actor=user, data={"title": "CEO"})
    assert "family_name" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.lead_create(
            actor=user, data={"company": "X", "estimated_value": "10.123", "currency": "EUR"}
        )
    assert "estimated_value" in caught.value.message_dict
    assert not Lead.objects.exists()


def test_only_a_company_or_an_email_is_enough(user):
    assert services.lead_create(actor=user, data={"company": "Acme"}).company == "Acme"
    assert services.lead_create(actor=user, data={"email": "x@example.com"}).email == "x@example.com"


def test_stale_version_is_a_conflict(user):
    made = lead(user)
    services.lead_update(actor=user, lead=made, data={"title": "CEO"}, expected_version=1)
    with pytest.raises(ConflictError):
        services.lead_update(actor=user, lead=made, data={"title": "CTO"}, expected_version=1)
    assert Lead.objects.get().title == "CEO"


def test_status_steps_and_disqualify_needs_a_reason(user):
    made = lead(user)
    services.lead_mark_contacted(actor=user, lead=made)
    services.lead_qualify(actor=user, lead=made)
    assert Lead.objects.get().status == LeadStatus.QUALIFIED
    with pytest.raises(ValidationError) as caught:
        services.lead_disqualify(actor=user, lead=made, reason="  ")
    assert "reason" in caught.value.message_dict
    services.lead_disqualify(actor=user, lead=made, reason="No budget")
    got = Lead.objects.get()
    assert got.status == LeadStatus.UNQUALIFIED and got.disqualified_reason == "No budget"


def test_reassign_needs_an_active_user_and_write_reach(user):
    made = lead(user)
    other = make_user("olga", "sales_rep")
    gone = make_user("gone", "sales_rep", is_active=False)
    with pytest.raises(ValidationError):
        services.lead_assign(actor=user, lead=made, owner=gone)
    services.lead_assign(actor=user, lead=made, owner=other)
    assert Lead.objects.get().owner == other
    peer = make_user("peer", "sales_rep")
    with pytest.raises(PermissionDenied):
        services.lead_assign(actor=peer, lead=made, owner=peer)


def _customer(user, **data):
    return customer_services.customer_create(
        actor=user,
        kind="person",
        data={"given_name": "Anna", "family_name": "Berg", **data},
        emails=[{"address": "anna@example.com"}],
        phones=[{"number": "13800138000"}],
    )


def test_candidates_by_email_phone_and_name(user):
    existing = _customer(user)
    by_email = lead(user, given_name="", family_name="", company="", email="ANNA@example.com")
    found = lead_selectors.conversion_candidates(user, by_email)
    assert [c.id for c in found] == [existing.pk] and found[0].score == 100
    by_phone = lead(user, given_name="", family_name="", company="", phone="+86 138 0013 8000")
    assert [c.id for c in lead_selectors.conversion_candidates(user, by_phone)] == [existing.pk]
    by_name = lead(user, given_name="Anna", family_name="Berg", company="")
    assert [c.id for c in lead_selectors.conversion_candidates(user, by_name)] == [existing.pk]
    stranger = lead(user, given_name="Zoe", family_name="Quist", company="")
    assert lead_selectors.conversion_candidates(user, stranger) == []


def test_convert_into_a_new_customer_and_an_opportunity(user):
    made = lead(user, email="new@example.com", phone="13900139000", estimated_value="1200", currency="CNY")
    result = services.lead_convert(actor=user, lead=made)
    assert result.customer_created and result.customer.kind == "person"
    assert result.customer.display_name and "Berg Logistics" in result.customer.notes
    opportunity = Opportunity.objects.get()
    assert opportunity.customer == result.customer and opportunity.lead_id == made.pk
    assert opportunity.amount == 1200
    got = Lead.objects.get()
    assert got.status == LeadStatus.CONVERTED and got.converted_customer == result.customer
    assert got.converted_opportunity == opportunity and got.converted_at is not None


def test_convert_into_an_existing_customer_makes_no_duplicate(user):
    existing = _customer(user)
    made = lead(user, email="anna@example.com")
    [candidate] = lead_selectors.conversion_candidates(user, made)
    services.lead_convert(actor=user, lead=made, customer=Customer.objects.get(pk=candidate.id))
    assert Customer.objects.count() == 1
    assert Lead.objects.get().converted_customer == existing


def test_company_only_lead_becomes_a_company_without_opportunity(user):
    made = services.lead_create(actor=user, data={"company": "Acme Ltd"})
    result = services.lead_convert(actor=user, lead=made, create_opportunity=False)
    assert result.customer.kind == "company" and result.customer.display_name == "Acme Ltd"
    assert not Opportunity.objects.exists()


def test_double_conversion_is_refused_and_converted_lead_only_takes_notes(user):
    made = lead(user)
    services.lead_convert(actor=user, lead=made, create_opportunity=False)
    again = Lead.objects.get()
    with pytest.raises(services.LeadConverted) as caught:
        services.lead_convert(actor=user, lead=again)
    assert caught.value.code == LEAD_ALREADY_CONVERTED
    assert Customer.objects.count() == 1
    with pytest.raises(services.LeadConverted):
        services.lead_update(actor=user, lead=again, data={"company": "Other"})
    services.lead_update(actor=user, lead=again, data={"description": "Called back"})
    assert Lead.objects.get().description == "Called back"


def test_stale_copy_cannot_convert_twice(user):
    """Two users opened the lead; the second conversion (a stale copy) is refused, one customer made."""
    first, second = lead(user), None
    second = Lead.objects.get(pk=first.pk)
    services.lead_convert(actor=user, lead=first, create_opportunity=False)
    with pytest.raises(services.LeadConverted):
        services.lead_convert(actor=user, lead=second, create_opportunity=False)
    assert Customer.objects.count() == 1


def test_failed_opportunity_rolls_the_conversion_back(user):
    made = lead(user)
    with pytest.raises(ValidationError) as caught:
        services.lead_convert(actor=user, lead=made, opportunity_data={"amount": "-5"})
    assert "opportunity.amount" in caught.value.message_dict
    assert not Customer.objects.exists() and Lead.objects.get().status == LeadStatus.NEW


def test_import_leads_command_reports_bad_rows(user, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    source = tmp_path / "leads.csv"
    source.write_text(
        "First name,Last name,Company,E-mail,Mobile\n"
        "Anna,Berg,Berg AB,anna@example.com,13800138000\n"
        ",,,not-an-email,\n"
        "Li,Wei,,li@example.com,\n",
        encoding="utf-8",
    )
    errors = tmp_path / "errors.csv"
    out, err = StringIO(), StringIO()
    call_command("import_leads", str(source), user=user.username, errors=str(errors), stdout=out, stderr=err)
    assert "2 lead(s) created, 1 row(s) refused" in out.getvalue()
    assert "row 3" in err.getvalue() and "email" in err.getvalue()
    assert sorted(Lead.objects.values_list("source", flat=True)) == ["import", "import"]
    assert Lead.objects.get(company="Berg AB").phone == "+8613800138000"
    assert "not-an-email" in errors.read_text(encoding="utf-8")


@pytest.mark.engine("postgresql")
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_conversion_makes_one_customer(user):
    import threading

    from django.db import connection

    made = lead(user)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def convert() -> None:
        try:
            start.wait()
            services.lead_convert(actor=user, lead=Lead.objects.get(pk=made.pk), create_opportunity=False)
            outcomes.append("ok")
        except services.LeadConverted:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Customer.objects.count() == 1
