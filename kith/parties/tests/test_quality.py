"""Data-quality upkeep: admin-defined rules, the report and score, bulk fixes as audited jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from kith.audit.models import AuditEntry
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.parties import services
from kith.parties.models import Customer, DataQualityRule, Interaction
from kith.parties.services import catalogues, quality
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db, settings, tmp_path):
    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    return with_clearance(make_user("admin", "administrator"))


@pytest.fixture
def boss(db):
    return with_clearance(make_user("boss", "sales_manager"))


def _rule(admin, kind, name="rule", **params):
    return quality.rule_create(actor=admin, data={"name": name, "kind": kind, "params": params})


def _flagged(user, rule):
    (row,) = [r for r in quality.report(user) if r.rule.pk == rule.pk]
    return row.count, {c.pk for c in row.customers}


def test_each_kind_flags_the_right_customers_and_never_archived_or_merged(admin, boss):
    catalogues.custom_field_create(actor=None, data={"key": "hobby", "label": "Hobby", "field_type": "text"})
    full = person(
        boss,
        given_name="Full",
        phones=[{"number": "+49 30 1234567"}],
        emails=[{"address": "full@example.com"}],
        custom={"hobby": "chess"},
        source="referral",
    )
    bare = person(boss, given_name="Bare")
    acme = company(boss, legal_name="Acme Ltd", industry="")
    known = company(boss, legal_name="Known Ltd", industry="Retail", phones=[{"number": "+49 30 7654321"}])
    archived = person(boss, given_name="Gone")
    services.customer_set_status(actor=boss, customer=archived, status="archived", expected_version=None)
    tomb = person(boss, given_name="Tomb")
    Customer.objects.filter(pk=tomb.pk).update(merged_into=full)

    phone = _rule(admin, "missing_phone")
    email = _rule(admin, "missing_email")
    industry = _rule(admin, "missing_field", field="industry")
    source = _rule(admin, "missing_field", field="source")
    hobby = _rule(admin, "missing_custom", key="hobby")

    assert _flagged(boss, phone) == (2, {bare.pk, acme.pk})
    assert _flagged(boss, email) == (3, {bare.pk, acme.pk, known.pk})
    assert _flagged(boss, industry) == (1, {acme.pk})  # a company field: persons are not checked
    assert _flagged(boss, source)[1] == {bare.pk, acme.pk, known.pk}
    assert _flagged(boss, hobby)[1] == {bare.pk, acme.pk, known.pk}


def test_no_activity_looks_at_interactions_and_spares_new_customers(admin, boss):
    long_ago = timezone.now() - dt.timedelta(days=365 * 3)
    quiet = person(boss, given_name="Quiet")
    old_call = person(boss, given_name="Old call")
    recent_call = person(boss, given_name="Recent call")
    newcomer = person(boss, given_name="New")
    Customer.objects.filter(pk__in=[quiet.pk, old_call.pk, recent_call.pk]).update(created_at=long_ago)
    for customer in (old_call, recent_call):
        services.interaction_create(actor=boss, customer=customer, data={"kind": "call", "subject": "Hi"})
    Interaction.objects.filter(customer=old_call).update(occurred_at=long_ago)
    rule = _rule(admin, "no_activity", years=2)
    count, flagged = _flagged(boss, rule)
    assert flagged == {quiet.pk, old_call.pk} and count == 2
    assert newcomer.pk not in flagged and recent_call.pk not in flagged
    longer = _rule(admin, "no_activity", name="five", years=5)
    assert _flagged(boss, longer)[0] == 0


def test_a_rep_counts_only_the_customers_they_see(admin, boss):
    rep = make_user("rep", "sales_rep", manager=boss)
    peer = make_user("peer", "sales_manager")
    mine = person(rep, given_name="Mine")
    person(peer, given_name="Theirs")
    rule = _rule(admin, "missing_phone")
    assert _flagged(rep, rule) == (1, {mine.pk})
    assert _flagged(admin, rule)[0] == 2


def test_the_score_is_the_share_of_passing_checks(admin, boss):
    assert quality.quality_score(boss) == 100  # no rules
    _rule(admin, "missing_phone")
    assert quality.quality_score(boss) == 100  # no customers
    person(boss, given_name="A", phones=[{"number": "+49 30 1111111"}], emails=[{"address": "a@example.com"}])
    person(boss, given_name="B", phones=[{"number": "+49 30 2222222"}])
    person(boss, given_name="C")
    person(boss, given_name="D", phones=[{"number": "+49 30 4444444"}])
    _rule(admin, "missing_email", name="mail")
    # 4 customers x 2 rules = 8 checks; 1 without phone, 3 without email: 4 of 8 pass
    assert quality.quality_score(boss) == 50
    assert quality.score_of(3, 1, 1) == 67 and quality.score_of(0, 3, 0) == 100


def test_rule_validation_errors_are_keyed_by_field(admin):
    with pytest.raises(ValidationError) as exc:
        quality.rule_create(actor=admin, data={"name": "", "kind": "nonsense"})
    assert set(exc.value.message_dict) == {"name", "kind"}
    with pytest.raises(ValidationError) as exc:
        _rule(admin, "missing_field", field="notes")
    assert set(exc.value.message_dict) == {"field"}
    for years in (0, 51, "x"):
        with pytest.raises(ValidationError) as exc:
            _rule(admin, "no_activity", years=years)
        assert set(exc.value.message_dict) == {"years"}
    with pytest.raises(ValidationError) as exc:
        _rule(admin, "missing_custom")
    assert set(exc.value.message_dict) == {"key"}
    assert not DataQualityRule.objects.exists()


def test_only_admins_manage_rules_and_changes_are_audited(admin, boss):
    with pytest.raises(PermissionDenied):
        quality.rule_create(actor=boss, data={"name": "x", "kind": "missing_phone"})
    rule = _rule(admin, "no_activity", years=3)
    with pytest.raises(PermissionDenied):
        quality.rule_update(actor=boss, rule=rule, data={"name": "y"})
    with pytest.raises(PermissionDenied):
        quality.rule_delete(actor=boss, rule=rule)
    quality.rule_update(actor=admin, rule=rule, data={"params": {"years": 4}, "is_active": False})
    rule.refresh_from_db()
    assert rule.params == {"years": 4} and not rule.is_active
    assert quality.report(admin) == []  # inactive rules are not reported
    quality.rule_delete(actor=admin, rule=rule)
    assert not DataQualityRule.objects.exists()
    assert AuditEntry.objects.filter(object_type="parties.dataqualityrule").count() >= 3


def _run(job):
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    return job


def test_bulk_add_tag_and_assign_owner_run_as_audited_jobs(admin, boss):
    rep = make_user("rep2", "sales_rep", manager=boss)
    a = person(boss, given_name="A", tag_names=["vip"])
    b = person(boss, given_name="B")
    person(boss, given_name="C", phones=[{"number": "+49 30 3333333"}])
    rule = _rule(admin, "missing_phone")
    job = _run(quality.start_bulk(actor=boss, rule=rule, action="add_tag", value="call them"))
    assert (job.result["done"], job.result["refused"]) == (2, 0) and job.total == 2
    assert sorted(t.name for t in Customer.objects.get(pk=a.pk).tags.all()) == ["call them", "vip"]
    assert [t.name for t in Customer.objects.get(pk=b.pk).tags.all()] == ["call them"]
    job = _run(quality.start_bulk(actor=boss, rule=rule, action="assign_owner", value=str(rep.pk)))
    assert job.result["done"] == 2
    assert set(Customer.objects.filter(pk__in=[a.pk, b.pk]).values_list("owner_id", flat=True)) == {rep.pk}
    entries = AuditEntry.objects.filter(object_type="parties.customer", object_id=str(b.pk), source="job")
    assert entries.exists() and all(e.actor_id == boss.pk for e in entries)
    assert any("owner" in e.changes for e in entries)


def test_bulk_archive_and_delete_with_refusals(admin, boss):
    keep = person(boss, given_name="Busy")
    services.interaction_create(actor=boss, customer=keep, data={"kind": "call", "subject": "Hi"})
    empty = person(boss, given_name="Empty")
    rule = _rule(admin, "missing_email")
    job = _run(quality.start_bulk(actor=boss, rule=rule, action="delete"))
    assert (job.result["done"], job.result["refused"]) == (1, 1)
    assert not Customer.objects.filter(pk=empty.pk).exists() and Customer.objects.filter(pk=keep.pk).exists()
    assert AuditEntry.objects.filter(object_type="parties.customer", object_id=str(empty.pk), action="delete")
    job = _run(quality.start_bulk(actor=boss, rule=rule, action="archive"))
    assert job.result["done"] == 1 and Customer.objects.get(pk=keep.pk).status == "archived"
    assert _flagged(boss, rule)[0] == 0  # archived customers are no longer counted


def test_bulk_actions_are_checked_before_they_start(admin, boss):
    rep = make_user("rep3", "sales_rep", manager=boss)
    rule = _rule(admin, "missing_email")
    with pytest.raises(PermissionDenied):
        quality.start_bulk(actor=rep, rule=rule, action="delete")  # reps may not delete customers
    for action, value, key in (
        ("explode", "", "action"),
        ("assign_owner", "999999", "value"),
        ("add_tag", "  ", "value"),
    ):
        with pytest.raises(ValidationError) as exc:
            quality.start_bulk(actor=boss, rule=rule, action=action, value=value)
        assert set(exc.value.message_dict) == {key}
    assert not Job.objects.exists()


def test_the_page_shows_counts_and_starts_a_job_and_the_home_card(client, admin, boss):
    person(boss, given_name="Nophone")
    person(boss, given_name="Phoned", phones=[{"number": "+49 30 5555555"}])
    rule = _rule(admin, "missing_phone", name="Phone needed")
    client.force_login(admin)
    page = client.get(reverse("parties:quality")).content.decode()
    assert "Phone needed" in page and f'data-rule-count="{rule.pk}">1<' in page
    assert "<progress" in page and "<details>" in page and "Nophone" in page and "Phoned" not in page
    assert reverse("parties:quality_rule_create") in page  # admins may add rules
    home = client.get(reverse("parties:home")).content.decode()
    assert reverse("parties:quality") in home and "<strong>50</strong>" in home
    response = client.post(
        reverse("parties:quality_bulk", args=[rule.pk]), {"action": "add_tag", "value": "x"}
    )
    job = Job.objects.get(kind=quality.BULK_KIND)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    response = client.post(
        reverse("parties:quality_rule_create"), {"name": "Old", "kind": "no_activity", "param": "2"}
    )
    assert DataQualityRule.objects.filter(name="Old", params={"years": 2}).exists()


def test_a_manager_sees_the_page_without_admin_forms_and_no_home_card(client, admin, boss):
    _rule(admin, "missing_phone", name="Phone needed")
    client.force_login(boss)
    page = client.get(reverse("parties:quality")).content.decode()
    assert "Phone needed" in page and reverse("parties:quality_rule_create") not in page
    assert reverse("parties:quality") not in client.get(reverse("parties:home")).content.decode()
    assert (
        client.post(
            reverse("parties:quality_rule_create"), {"name": "x", "kind": "missing_phone"}
        ).status_code
        == 403
    )
    viewer = make_user("viewer", "viewer")
    client.force_login(viewer)
    assert client.get(reverse("parties:quality")).status_code == 403


def test_bulk_assign_owner_only_to_someone_in_ones_reach(admin, boss):
    rule = _rule(admin, "missing_email")
    stranger = make_user("stranger", "sales_manager")  # not below boss: not offered, not accepted
    with pytest.raises(ValidationError) as exc:
        quality.start_bulk(actor=boss, rule=rule, action="assign_owner", value=str(stranger.pk))
    assert set(exc.value.message_dict) == {"value"}
    assert not Job.objects.exists()


def test_invalid_email_flags_placeholders_and_reserved_domains(admin, boss):
    real = person(boss, given_name="Real", emails=[{"address": "anna@berg-consulting.de"}])
    placeholder = person(boss, given_name="None", emails=[{"address": "NoEmail@gmail.com"}])
    reserved = person(boss, given_name="Demo", emails=[{"address": "demo@mail.example.org"}])
    testing = person(boss, given_name="Test", emails=[{"address": "a@shop.test"}])
    both = person(boss, given_name="Two", emails=[{"address": "two@firm.cn"}, {"address": "n/a@firm.cn"}])
    rule = _rule(admin, "invalid_email")
    count, flagged = _flagged(boss, rule)
    assert flagged == {placeholder.pk, reserved.pk, testing.pk, both.pk} and count == 4
    assert real.pk not in flagged


def test_data_quality_api(admin, boss):
    from rest_framework.test import APIClient

    person(boss, given_name="Bare")
    person(boss, given_name="Phoned", phones=[{"number": "+49 30 1234567"}])
    api = APIClient()
    api.force_authenticate(admin)
    made = api.post("/api/v1/data-quality/rules/", {"name": "Phone", "kind": "missing_phone"}, format="json")
    assert made.status_code == 201, made.json()
    rule_id = made.json()["id"]
    nameless = api.post("/api/v1/data-quality/rules/", {"name": "", "kind": "missing_email"}, format="json")
    assert nameless.status_code == 400 and "name" in nameless.json()["errors"]
    too_long = api.post(
        "/api/v1/data-quality/rules/",
        {"name": "Old", "kind": "no_activity", "params": {"years": 99}},
        format="json",
    )
    assert too_long.status_code == 400 and "years" in too_long.json()["errors"]
    report = api.get("/api/v1/data-quality/").json()
    assert report["customers"] == 2 and report["score"] == 50
    (row,) = report["rules"]
    assert row["rule"]["id"] == rule_id and row["violations"] == 1 and len(row["sample"]) == 1
    renamed = api.patch(f"/api/v1/data-quality/rules/{rule_id}/", {"name": "Needs a phone"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Needs a phone"
    assert renamed.json()["kind"] == "missing_phone"
    manager = APIClient()
    manager.force_authenticate(boss)  # sees the report and acts on the customers; may not change rules
    assert manager.get("/api/v1/data-quality/").status_code == 200
    assert manager.delete(f"/api/v1/data-quality/rules/{rule_id}/").status_code == 403
    started = manager.post(
        f"/api/v1/data-quality/rules/{rule_id}/bulk/", {"action": "add_tag", "value": "call"}, format="json"
    )
    assert started.status_code == 202 and started.json()["status"] == "queued"
    finished = jobs.run(started.json()["id"])
    assert finished is not None and finished.result["done"] == 1, finished and finished.result
    assert list(Customer.objects.get(given_name="Bare").tags.values_list("name", flat=True)) == ["call"]
    no_tag = manager.post(f"/api/v1/data-quality/rules/{rule_id}/bulk/", {"action": "add_tag"}, format="json")
    assert no_tag.status_code == 400 and "value" in no_tag.json()["errors"]
    rep = APIClient()
    rep.force_authenticate(make_user("rep", "viewer"))
    assert rep.get("/api/v1/data-quality/").status_code == 403
    assert api.delete(f"/api/v1/data-quality/rules/{rule_id}/").status_code == 204
    assert api.get(f"/api/v1/data-quality/rules/{rule_id}/").status_code == 404
