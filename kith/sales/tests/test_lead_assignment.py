"""Assignment rules: order of rules, territory/category/source matching, round robin (order, wrap, fair
under concurrency), "first", inactive users, unassigned leads; rule administration."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from kith.parties.services import catalogues
from kith.sales.models import Lead
from kith.sales.selectors import leads as selectors
from kith.sales.services import assignment
from kith.sales.tests.lead_factories import lead, rule
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def reps():
    return [make_user(f"rep{i}", "sales_rep") for i in range(3)]


def test_round_robin_goes_in_id_order_and_wraps(reps):
    rule(*reps)
    owners = [lead(None, company=f"C{i}").owner_id for i in range(7)]
    ids = sorted(r.pk for r in reps)
    assert owners == [ids[0], ids[1], ids[2], ids[0], ids[1], ids[2], ids[0]]


def test_round_robin_skips_inactive_users(reps):
    rule(*reps)
    reps[1].is_active = False
    reps[1].save()
    owners = [lead(None, company=f"C{i}").owner_id for i in range(4)]
    assert owners == [reps[0].pk, reps[2].pk, reps[0].pk, reps[2].pk]


def test_first_method_always_gives_the_first_active_user(reps):
    rule(*reps, method="first")
    assert {lead(None, company=f"C{i}").owner_id for i in range(3)} == {min(r.pk for r in reps)}


def test_first_matching_rule_by_order_wins_and_territory_ignores_case(reps):
    rule(reps[0], name="North", territory="NORTH", position=1)
    rule(reps[1], name="Web", source="web_form", position=2)
    rule(reps[2], name="Rest", position=9)
    assert lead(None, territory="north").owner == reps[0]
    assert lead(None, territory="South", source="web_form").owner == reps[1]
    assert lead(None, territory="South").owner == reps[2]


def test_category_matches_its_branch(reps, admin_user):
    tree = catalogues.category_tree_create(actor=admin_user, data={"name": "Industry"})
    telecom = catalogues.category_create(actor=admin_user, tree=tree, name="Telecom")
    mobile = catalogues.category_create(actor=admin_user, tree=tree, name="Mobile", parent=telecom)
    retail = catalogues.category_create(actor=admin_user, tree=tree, name="Retail")
    rule(reps[0], name="Telecom", category=telecom)
    assert lead(None, category=mobile).owner == reps[0]
    assert lead(None, category=telecom).owner == reps[0]
    assert lead(None, category=retail).owner is None
    assert lead(None).owner is None


def test_no_rule_leaves_it_unassigned_and_the_filter_finds_it(reps, admin_user):
    rule(reps[0], territory="EU")
    orphan = lead(None, territory="US")
    assert orphan.owner is None
    found = selectors.lead_list(user=admin_user, filters=selectors.LeadFilters(owner=selectors.UNASSIGNED))
    assert list(found) == [orphan]


def test_inactive_rule_is_ignored_and_given_owner_is_kept(reps):
    rule(reps[0], is_active=False)
    assert lead(None).owner is None
    rule(reps[1])
    assert lead(None, owner=reps[2]).owner == reps[2]


def test_rule_admin_needs_administer_and_active_users(reps, user):
    with pytest.raises(PermissionDenied):
        assignment.rule_create(actor=reps[0], data={"name": "x", "users": [reps[0].pk]})
    with pytest.raises(ValidationError) as caught:
        assignment.rule_create(actor=user, data={"name": "", "users": [], "method": "nope", "source": "x"})
    assert {"name", "users", "method", "source"} <= set(caught.value.message_dict)
    gone = make_user("gone", "sales_rep", is_active=False)
    with pytest.raises(ValidationError):
        assignment.rule_create(actor=user, data={"name": "x", "users": [gone.pk]})
    made = assignment.rule_create(actor=user, data={"name": "x", "users": [reps[0].pk]})
    assignment.rule_update(actor=user, rule=made, data={"users": [reps[1].pk]}, expected_version=1)
    assert list(made.users.all()) == [reps[1]]


@pytest.mark.engine("postgresql")
@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_get_different_users(reps):
    """Six leads created at once by six threads (own connections): each user gets two."""
    rule(*reps)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            start.wait()
            lead(None, company=f"C{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    owners = list(Lead.objects.values_list("owner_id", flat=True))
    assert sorted(owners.count(r.pk) for r in reps) == [2, 2, 2]
