"""Field security of leads and deals (``kith.sales.sensitive``): a field a role's field rules hide is not
shown on any channel (deal page, list, board, API, export, webhook body), a read-only field cannot be
changed (form and API give a field error, nothing changes), a lead's phone is masked for users without
clearance on every channel and cannot be used to find the lead; both types are on the field-rules page."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kith.jobs import services as jobs
from kith.jobs.models import JobStatus
from kith.sales.choices import LEAD, OPPORTUNITY
from kith.sales.models import Lead, Opportunity
from kith.sales.services import leads as lead_services
from kith.sales.services import opportunities as deal_services
from kith.sales.services.exports import start_sales_export
from kith.sales.tests import opportunity_factories as deals
from kith.sales.tests.lead_factories import lead
from kith.security import masking
from kith.security.models import FieldAccess, Role
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

AMOUNT = "98765.43"
PHONE = "+44 7700 900123"
MASKED_PHONE = "+44 770***0123"  # masking.mask: country code, 3 digits first, 4 last


@pytest.fixture(autouse=True)
def _setup(settings: Any, tmp_path: Any) -> None:
    settings.KITH_DEFAULT_REGION = "GB"
    settings.KITH_DEFAULT_CURRENCY = "EUR"
    settings.KITH_JOBS_DIR = tmp_path / "jobs"


def _rule(role_code: str, object_type: str, field: str, access: str) -> None:
    masking.save_field_rules(
        actor=None, role=Role.objects.get(code=role_code), object_type=object_type, rules={field: access}
    )


def _client(who: Any) -> Client:
    client = Client()
    client.force_login(who)
    return client


def _api(who: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(who)
    return client


def _export_rows(user: Any, export_type: str, **filters: Any) -> list[dict[str, str]]:
    job = start_sales_export(actor=user, export_type=export_type, file_format="csv", filters=filters)
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.message
    text = jobs.file_path(job).read_text(encoding="utf-8-sig")  # type: ignore[union-attr]
    return list(csv.DictReader(io.StringIO(text)))


def test_both_types_are_on_the_field_rules_page_and_only_the_lead_phone_is_sensitive() -> None:
    assert {LEAD, OPPORTUNITY} <= set(masking.rule_object_types())
    lead_fields = dict(masking.fields_of(LEAD))
    assert {"company", "phone", "email", "estimated_value", "owner"} <= set(lead_fields)
    deal_fields = dict(masking.fields_of(OPPORTUNITY))
    assert {"amount", "discount_percent", "competitors", "next_step", "customer"} <= set(deal_fields)
    assert set(masking.sensitive_fields(LEAD)) == {"phone"}
    assert masking.sensitive_fields(LEAD)["phone"].kind == masking.PHONE
    assert masking.sensitive_fields(OPPORTUNITY) == {}


# --- a hidden deal amount ----------------------------------------------------------------------------
@pytest.fixture
def hidden_amount(admin_user: Any) -> dict[str, Any]:
    """A sales manager whose role hides ``opportunity.amount``, with one open deal of theirs."""
    manager = make_user("hidden-amount", "sales_manager")
    deal = deals.opportunity(actor=manager, name="Fibre for the depot", amount=AMOUNT)
    _rule("sales_manager", OPPORTUNITY, "amount", FieldAccess.HIDDEN)
    return {"manager": manager, "deal": deal, "admin": admin_user}


def test_a_hidden_amount_is_not_on_the_deal_page_list_or_board(hidden_amount: dict[str, Any]) -> None:
    client, deal = _client(hidden_amount["manager"]), hidden_amount["deal"]
    for url in (
        reverse("sales:opportunity_detail", args=[deal.pk]),
        reverse("sales:opportunity_list"),
        reverse("sales:opportunity_board"),
    ):
        page = client.get(url).content.decode()
        assert "Fibre for the depot" in page, url
        assert AMOUNT not in page, url
    # an administrator sees it everywhere
    admin = _client(hidden_amount["admin"])
    assert AMOUNT in admin.get(reverse("sales:opportunity_detail", args=[deal.pk])).content.decode()
    assert AMOUNT in admin.get(reverse("sales:opportunity_board")).content.decode()


def test_a_hidden_amount_is_no_ordering_key(hidden_amount: dict[str, Any]) -> None:
    manager, deal = hidden_amount["manager"], hidden_amount["deal"]
    with pytest.raises(ValidationError) as refused:  # nor can a new deal be given one
        deals.opportunity(actor=manager, name="Small one", amount="1.00")
    assert "amount" in refused.value.message_dict
    deals.opportunity(actor=manager, name="Small one", amount="")
    page = _client(manager).get(reverse("sales:opportunity_list"), {"ordering": "-amount"})
    names = [row.name for row in page.context["page"].object_list]
    assert names == ["Small one", deal.name]  # newest first, not by the amount


def test_a_hidden_amount_is_not_in_the_api_or_the_export(hidden_amount: dict[str, Any]) -> None:
    manager, deal = hidden_amount["manager"], hidden_amount["deal"]
    api = _api(manager)
    body = api.get(f"/api/v1/opportunities/{deal.pk}/").json()
    assert body["name"] == "Fibre for the depot" and "amount" not in body
    listed = api.get("/api/v1/opportunities/").json()["results"]
    assert [row["id"] for row in listed] == [deal.pk] and "amount" not in listed[0]
    rows = _export_rows(manager, "opportunity")
    assert len(rows) == 1 and rows[0]["Name"] == "Fibre for the depot" and rows[0]["Amount"] == ""
    assert _export_rows(hidden_amount["admin"], "opportunity")[0]["Amount"] == AMOUNT
    assert _api(hidden_amount["admin"]).get(f"/api/v1/opportunities/{deal.pk}/").json()["amount"] == AMOUNT


def test_a_hidden_amount_cannot_be_changed(hidden_amount: dict[str, Any]) -> None:
    manager, deal = hidden_amount["manager"], hidden_amount["deal"]
    answer = _api(manager).patch(
        f"/api/v1/opportunities/{deal.pk}/", {"amount": "1.00", "version": deal.version}, format="json"
    )
    assert answer.status_code == 400 and "amount" in str(answer.json())
    form = _client(manager).get(reverse("sales:opportunity_edit", args=[deal.pk])).context["form"]
    assert "amount" not in form.fields
    assert str(Opportunity.objects.get(pk=deal.pk).amount) == AMOUNT


# --- a read-only lead company ---------------------------------------------------------------------------
@pytest.fixture
def read_only_company() -> dict[str, Any]:
    rep = make_user("ro-rep", "sales_rep")
    mine = lead(rep, company="Berg Logistics", title="Buyer")
    _rule("sales_rep", LEAD, "company", FieldAccess.READ)
    return {"rep": rep, "lead": mine}


def test_a_read_only_company_is_disabled_on_the_form_and_refused(read_only_company: dict[str, Any]) -> None:
    rep, mine = read_only_company["rep"], read_only_company["lead"]
    client = _client(rep)
    url = reverse("sales:lead_edit", args=[mine.pk])
    form = client.get(url).context["form"]
    assert form.fields["company"].disabled
    posted = {
        "given_name": "Anna",
        "family_name": "Berg",
        "company": "Another Company",
        "title": "Head buyer",
        "source": "manual",
        "version": mine.version,
    }
    answer = client.post(url, posted)
    assert answer.status_code == 400 and "company" in answer.context["form"].errors
    unchanged = Lead.objects.get(pk=mine.pk)
    assert unchanged.company == "Berg Logistics" and unchanged.title == "Buyer"
    # without the locked field the rest saves
    del posted["company"]
    assert client.post(url, posted).status_code == 302
    saved = Lead.objects.get(pk=mine.pk)
    assert saved.company == "Berg Logistics" and saved.title == "Head buyer"


def test_a_read_only_company_is_refused_by_the_api_and_the_service(read_only_company: dict[str, Any]) -> None:
    rep, mine = read_only_company["rep"], read_only_company["lead"]
    answer = _api(rep).patch(f"/api/v1/leads/{mine.pk}/", {"company": "Another Company"}, format="json")
    assert answer.status_code == 400 and "company" in str(answer.json())
    with pytest.raises(ValidationError) as refused:
        lead_services.lead_update(actor=rep, lead=mine, data={"company": "Another Company"})
    assert "company" in refused.value.message_dict
    # sending the value it has is no change
    lead_services.lead_update(actor=rep, lead=mine, data={"company": "Berg Logistics", "title": "CEO"})
    assert Lead.objects.get(pk=mine.pk).company == "Berg Logistics"
    # a new lead cannot be given one either
    with pytest.raises(ValidationError) as refused:
        lead_services.lead_create(actor=rep, data={"family_name": "Chen", "company": "Chen Ltd"})
    assert "company" in refused.value.message_dict


def test_a_read_only_deal_field_is_refused(admin_user: Any) -> None:
    rep = make_user("deal-rep", "sales_rep")
    deal = deals.opportunity(actor=rep, competitors="Rival Ltd")
    _rule("sales_rep", OPPORTUNITY, "competitors", FieldAccess.READ)
    with pytest.raises(ValidationError) as refused:
        deal_services.opportunity_update(actor=rep, opportunity=deal, data={"competitors": "Nobody"})
    assert "competitors" in refused.value.message_dict
    deal_services.opportunity_update(actor=rep, opportunity=deal, data={"next_step": "Call back"})
    assert Opportunity.objects.get(pk=deal.pk).competitors == "Rival Ltd"


# --- a lead's phone, masked without clearance ----------------------------------------------------------
@pytest.fixture
def phone_lead(admin_user: Any) -> dict[str, Any]:
    manager = make_user("phone-manager", "sales_manager")  # may export leads; no clearance
    rep = make_user("phone-rep", "sales_rep", manager=manager)
    mine = lead(rep, given_name="Anna", family_name="Berg", company="Berg Logistics", phone=PHONE)
    assert mine.phone == "+447700900123"
    return {"rep": rep, "manager": manager, "lead": mine, "admin": admin_user}


def test_a_rep_sees_the_phone_masked_on_the_page_list_and_api(phone_lead: dict[str, Any]) -> None:
    rep, mine = phone_lead["rep"], phone_lead["lead"]
    client = _client(rep)
    for url in (reverse("sales:lead_detail", args=[mine.pk]), reverse("sales:lead_list")):
        page = client.get(url).content.decode()
        assert MASKED_PHONE in page, url
        assert "900123" not in page and "7700 900" not in page, url
    edit = client.get(reverse("sales:lead_edit", args=[mine.pk])).content.decode()
    assert MASKED_PHONE in edit and "900123" not in edit
    body = _api(rep).get(f"/api/v1/leads/{mine.pk}/").json()
    assert body["phone"] == MASKED_PHONE and "900123" not in str(body)
    listed = _api(rep).get("/api/v1/leads/").json()["results"]
    assert listed[0]["phone"] == MASKED_PHONE


def test_an_admin_sees_the_phone_whole(phone_lead: dict[str, Any]) -> None:
    admin, mine = phone_lead["admin"], phone_lead["lead"]
    assert (
        "+447700900123" in _client(admin).get(reverse("sales:lead_detail", args=[mine.pk])).content.decode()
    )
    assert _api(admin).get(f"/api/v1/leads/{mine.pk}/").json()["phone"] == "+447700900123"
    assert _export_rows(admin, "lead")[0]["Phone"] == "+447700900123"


def test_the_export_masks_the_phone_without_clearance(phone_lead: dict[str, Any]) -> None:
    rows = _export_rows(phone_lead["manager"], "lead")
    assert len(rows) == 1 and rows[0]["Phone"] == MASKED_PHONE and rows[0]["Company"] == "Berg Logistics"


def test_a_masked_phone_cannot_be_changed_through_the_form(phone_lead: dict[str, Any]) -> None:
    rep, mine = phone_lead["rep"], phone_lead["lead"]
    client = _client(rep)
    url = reverse("sales:lead_edit", args=[mine.pk])
    assert client.get(url).context["form"].fields["phone"].disabled
    posted = {"given_name": "Anna", "family_name": "Berg", "company": "Berg Logistics", "source": "manual"}
    answer = client.post(url, {**posted, "phone": "+44 7700 900999", "version": mine.version})
    assert answer.status_code == 400 and "phone" in answer.context["form"].errors
    # the form's own (masked) value is no change; the stored number stays
    assert (
        client.post(url, {**posted, "description": "Met at the fair", "version": mine.version}).status_code
        == 302
    )
    saved = Lead.objects.get(pk=mine.pk)
    assert saved.phone == "+447700900123" and saved.description == "Met at the fair"


def test_a_masked_phone_finds_nothing(phone_lead: dict[str, Any]) -> None:
    rep, admin, mine = phone_lead["rep"], phone_lead["admin"], phone_lead["lead"]
    for query in ("07700900123", "7700900123", "900123"):
        page = _client(rep).get(reverse("sales:lead_list"), {"q": query})
        assert list(page.context["page"].object_list) == [], query
        assert _api(rep).get("/api/v1/leads/", {"q": query}).json()["count"] == 0, query
    assert _export_rows(phone_lead["manager"], "lead", q="7700900123") == []
    # the name still finds it; with clearance the number does
    assert _api(rep).get("/api/v1/leads/", {"q": "Berg"}).json()["count"] == 1
    page = _client(admin).get(reverse("sales:lead_list"), {"q": "7700900123"})
    assert [row.pk for row in page.context["page"].object_list] == [mine.pk]


def test_the_webhook_body_of_a_lead_is_masked_for_its_owner(phone_lead: dict[str, Any]) -> None:
    from kith.sales.events import _owned_renderer
    from kith.webhooks.events import EventRef

    render = _owned_renderer(LEAD, "leads", "lead_for", "lead_serializers.LeadSerializer")
    ref = EventRef(
        event_type="lead.updated",
        subject_type="sales.lead",
        subject_id=str(phone_lead["lead"].pk),
        changed=("phone",),
    )
    shown = render(phone_lead["rep"], ref)
    assert shown.object["phone"] == MASKED_PHONE and "900123" not in str(shown.object)
    whole = render(phone_lead["admin"], ref)
    assert whole.object["phone"] == "+447700900123"


def test_the_field_rules_page_offers_leads_and_deals(admin_user: Any) -> None:
    client = _client(admin_user)
    for object_type, field in ((LEAD, "phone"), (OPPORTUNITY, "discount_percent")):
        page = client.get(reverse("security:field_rules"), {"type": object_type})
        assert page.status_code == 200 and field in page.context["form"].names.values()


def test_a_hidden_field_is_left_out_of_the_webhook_body_and_its_changes(admin_user: Any) -> None:
    from kith.sales.events import _owned_renderer
    from kith.webhooks.events import EventRef

    manager = make_user("hook-owner", "sales_manager")
    deal = deals.opportunity(actor=manager, amount=AMOUNT)
    _rule("sales_manager", OPPORTUNITY, "amount", FieldAccess.HIDDEN)
    render = _owned_renderer(
        OPPORTUNITY, "opportunities", "opportunity_for", "opportunity_serializers.OpportunitySerializer"
    )
    ref = EventRef(
        event_type="opportunity.updated",
        subject_type="sales.opportunity",
        subject_id=str(deal.pk),
        changed=("amount", "next_step"),
    )
    shown = render(manager, ref)
    assert "amount" not in shown.object and shown.changed == ("next_step",)
    assert render(admin_user, ref).object["amount"] == AMOUNT


def test_hidden_lead_fields_are_left_off_the_page_list_and_api() -> None:
    boss = make_user("hide-boss", "sales_manager")
    rep = make_user("hide-rep", "sales_rep", manager=boss, display_name="Rita Representative")
    mine = lead(rep, email="anna@berg.example", company="Berg Logistics")
    for field in ("owner", "email"):
        _rule("sales_manager", LEAD, field, FieldAccess.HIDDEN)
    client = _client(boss)
    detail = client.get(reverse("sales:lead_detail", args=[mine.pk])).content.decode()
    assert "Berg Logistics" in detail and "anna@berg.example" not in detail
    assert "<dt>Owner</dt>" not in detail and "<dt>Email</dt>" not in detail
    listed = client.get(reverse("sales:lead_list")).content.decode()
    assert "Berg Logistics" in listed and "anna@berg.example" not in listed
    assert 'data-label="Owner">—</td>' in listed
    body = _api(boss).get(f"/api/v1/leads/{mine.pk}/").json()
    assert "email" not in body and "owner" not in body and body["company"] == "Berg Logistics"
    # nor is a hidden field a search key (the rep, without the rule, finds it)
    assert _api(boss).get("/api/v1/leads/", {"q": "anna@berg"}).json()["count"] == 0
    assert _api(rep).get("/api/v1/leads/", {"q": "anna@berg"}).json()["count"] == 1


def test_board_cards_are_not_in_amount_order_when_the_amount_is_hidden(hidden_amount: dict[str, Any]) -> None:
    """The order of the cards would rank the hidden amounts: the nearest expected close comes first instead."""
    from kith.sales.selectors.opportunities import board, board_pipeline

    manager, first = hidden_amount["manager"], hidden_amount["deal"]
    soon = deals.opportunity(
        actor=hidden_amount["admin"], name="Small but soon", amount="10.00", expected_close_date="2030-01-01"
    )
    Opportunity.objects.filter(pk=soon.pk).update(owner=manager)
    Opportunity.objects.filter(pk=first.pk).update(expected_close_date="2031-01-01", stage=soon.stage)
    pipeline = board_pipeline()
    assert pipeline is not None
    names = [c.name for col in board(user=manager, pipeline=pipeline).columns for c in col.cards]
    assert names == ["Small but soon", "Fibre for the depot"]
    admin_names = [
        c.name for col in board(user=hidden_amount["admin"], pipeline=pipeline).columns for c in col.cards
    ]
    assert admin_names == ["Fibre for the depot", "Small but soon"]  # the amount order, for who sees it
