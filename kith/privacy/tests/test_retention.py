"""Retention rules: the report of inactive customers, bulk erasure from it, and the daily review job."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kith.core import schedule
from kith.parties import services
from kith.parties.models import Customer
from kith.parties.tests.factories import person
from kith.privacy.models import RetentionFlag
from kith.privacy.selectors import is_erased
from kith.privacy.selectors.retention import months_before, retention_report
from kith.privacy.services.retention import retention_review, rule_create

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=800)


def _age(customer: Customer, when: dt.datetime = LONG_AGO) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(updated_at=when)
    return customer


@pytest.fixture
def population(admin_user: Any) -> dict[str, Customer]:
    sleeper = _age(person(admin_user, family_name="Sleeper", status="inactive"))
    old_visit = person(admin_user, family_name="Visited", status="inactive")
    services.interaction_create(
        actor=admin_user, customer=old_visit, data={"kind": "call", "subject": "old", "occurred_at": LONG_AGO}
    )
    _age(old_visit)
    recent_visit = person(admin_user, family_name="Recent", status="inactive")
    services.interaction_create(
        actor=admin_user, customer=recent_visit, data={"kind": "call", "subject": "new"}
    )
    _age(recent_visit)
    updated = person(admin_user, family_name="Updated", status="inactive")  # updated just now
    active = _age(person(admin_user, family_name="Active", status="active"))
    return {
        "sleeper": sleeper,
        "old_visit": old_visit,
        "recent": recent_visit,
        "updated": updated,
        "active": active,
    }


@pytest.fixture
def rule(admin_user: Any) -> Any:
    return rule_create(
        actor=admin_user, data={"name": "Inactive 2 years", "status": "inactive", "inactive_months": 24}
    )


def test_months_before():
    assert months_before(dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC), 1) == dt.datetime(
        2026, 2, 28, 12, tzinfo=dt.UTC
    )
    assert months_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 13) == dt.datetime(
        2024, 12, 15, tzinfo=dt.UTC
    )


def test_report_lists_only_inactive_customers_with_the_status(admin_user, population, rule):
    page = retention_report(rule, user=admin_user)
    assert {r.customer.pk for r in page.rows} == {population["sleeper"].pk, population["old_visit"].pk}
    by_pk = {r.customer.pk: r for r in page.rows}
    assert by_pk[population["old_visit"].pk].last_activity is not None
    assert by_pk[population["sleeper"].pk].flag is None


def test_report_pages_by_keyset(admin_user, rule):
    made = [_age(person(admin_user, family_name=f"Idle{i}", status="inactive")).pk for i in range(5)]
    first = retention_report(rule, user=admin_user, limit=2)
    second = retention_report(rule, user=admin_user, after=first.next_cursor, limit=2)
    third = retention_report(rule, user=admin_user, after=second.next_cursor, limit=2)
    seen = [r.customer.pk for p in (first, second, third) for r in p.rows]
    assert seen == sorted(made) and third.next_cursor is None


def test_rule_validation(admin_user, user):
    with pytest.raises(ValidationError) as caught:
        rule_create(actor=admin_user, data={"name": "", "status": "gone", "inactive_months": 0})
    assert set(caught.value.message_dict) == {"name", "status", "inactive_months"}
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        rule_create(actor=user, data={"name": "x", "status": "inactive", "inactive_months": 3})


def test_daily_job_flags_and_never_erases_a_flag_rule(admin_user, population, rule):
    result = retention_review()
    assert result["Inactive 2 years"]["flagged"] == 2
    assert set(RetentionFlag.objects.values_list("customer_id", flat=True)) == {
        population["sleeper"].pk,
        population["old_visit"].pk,
    }
    assert retention_review(now=timezone.now() + dt.timedelta(days=400))["Inactive 2 years"]["erased"] == 0
    assert not is_erased(population["sleeper"])
    # a flagged customer who comes back is no longer flagged
    services.interaction_create(
        actor=admin_user, customer=population["sleeper"], data={"kind": "call", "subject": "hi"}
    )
    assert retention_review()["Inactive 2 years"]["dropped"] == 1
    assert not RetentionFlag.objects.filter(customer=population["sleeper"]).exists()


def test_auto_rule_anonymises_only_after_the_grace_period(admin_user, population):
    auto = rule_create(
        actor=admin_user,
        data={
            "name": "Auto",
            "status": "inactive",
            "inactive_months": 24,
            "action": "anonymise",
            "grace_days": 30,
        },
    )
    assert retention_review()["Auto"] == {"dropped": 0, "flagged": 2, "erased": 0}
    later = timezone.now() + dt.timedelta(days=31)
    assert retention_review(now=later)["Auto"]["erased"] == 2
    assert is_erased(population["sleeper"]) and is_erased(population["old_visit"])
    assert not is_erased(population["recent"])
    erasure = population["sleeper"].erasure
    assert erasure.via == "retention_auto" and erasure.rule == auto and erasure.erased_by is None
    assert set(RetentionFlag.objects.values_list("state", flat=True)) == {"erased"}


def test_job_is_registered_daily():
    assert "privacy.retention_review" in {job.name for job in schedule.daily_jobs()}


def test_report_page_bulk_erase_needs_confirmation(client, admin_user, population, rule):
    client.force_login(admin_user)
    url = reverse("privacy:retention_report", kwargs={"pk": rule.pk})
    page = client.get(url)
    assert page.status_code == 200 and population["sleeper"].customer_number in page.content.decode()
    ids = [
        population["sleeper"].pk,
        population["old_visit"].pk,
        population["active"].pk,
    ]  # active: not a match
    wrong = client.post(
        url, {"customer": ids, "reason": "retention policy", "confirmation": "3", "action": "erase"}
    )
    assert wrong.status_code == 400 and not is_erased(population["sleeper"])
    done = client.post(
        url, {"customer": ids, "reason": "retention policy", "confirmation": "2", "action": "erase"}
    )
    assert done.status_code == 302
    assert is_erased(population["sleeper"]) and is_erased(population["old_visit"])
    assert not is_erased(population["active"])
    assert population["sleeper"].erasure.via == "retention_review"


def test_keep_from_the_report(client, admin_user, population, rule):
    client.force_login(admin_user)
    url = reverse("privacy:retention_report", kwargs={"pk": rule.pk})
    client.post(url, {"customer": [population["sleeper"].pk], "action": "keep"})
    assert RetentionFlag.objects.get(customer=population["sleeper"]).state == "kept"
    retention_review()
    assert RetentionFlag.objects.get(customer=population["sleeper"]).state == "kept"  # not flagged again


def test_admin_pages_refused_to_others(client, user, rule):
    client.force_login(user)
    for name, kwargs in (("retention_rules", {}), ("purposes", {}), ("retention_report", {"pk": rule.pk})):
        assert client.get(reverse(f"privacy:{name}", kwargs=kwargs)).status_code == 403


def test_admin_pages_render_and_show_field_errors(client, admin_user, rule):
    client.force_login(admin_user)
    assert client.get(reverse("privacy:retention_rules")).status_code == 200
    bad = client.post(
        reverse("privacy:retention_rules"), {"name": "", "status": "inactive", "inactive_months": "0"}
    )
    assert bad.status_code == 400 and "field-error" in bad.content.decode()
    assert client.get(reverse("privacy:retention_rule_edit", kwargs={"pk": rule.pk})).status_code == 200
    assert client.get(reverse("privacy:purposes")).status_code == 200
    bad = client.post(reverse("privacy:purposes"), {"code": "Not A Code!", "name": "x"})
    assert bad.status_code == 400 and "field-error" in bad.content.decode()
    ok = client.post(reverse("privacy:purposes"), {"code": "surveys", "name": "Surveys", "is_active": "on"})
    assert ok.status_code == 302
