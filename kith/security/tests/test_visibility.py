"""Who sees and changes which customer: owner, manager chain, shares, defaults, role permissions — through
the services, the web UI, the API and search alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from kith.parties import services as parties
from kith.parties.selectors.customers import can_change, customers_for
from kith.parties.selectors.search import CustomerFilters, customer_search
from kith.parties.tests.factories import company
from kith.security import services
from kith.security.builtin import BUILTIN, permissions_for
from kith.security.models import Access, Role
from kith.security.rules import ACTIONS, has_permission, object_types
from kith.security.selectors import who_can_see
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db: Any) -> dict[str, Any]:
    """boss ← lead ← (rep, peer); each rep owns one customer."""
    boss = make_user("boss", "sales_manager")
    lead = make_user("lead", "sales_manager", manager=boss)
    rep = make_user("rep", "sales_rep", manager=lead)
    peer = make_user("peer", "sales_rep", manager=lead)
    mine = company(rep, legal_name="Rep Owned Trading Ltd")
    theirs = company(peer, legal_name="Peer Owned Holdings Ltd")
    return {"boss": boss, "lead": lead, "rep": rep, "peer": peer, "mine": mine, "theirs": theirs}


def names(user: Any, q: str = "") -> set[str]:
    page = customer_search(user=user, filters=CustomerFilters.from_params({"q": q}), limit=50)
    return {row["display_name"] for row in page.rows}


def api_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_peers_do_not_see_each_other_and_managers_see_down_the_chain(org):
    both = {"Rep Owned Trading Ltd", "Peer Owned Holdings Ltd"}
    assert names(org["rep"]) == {"Rep Owned Trading Ltd"}
    assert names(org["peer"]) == {"Peer Owned Holdings Ltd"}
    assert names(org["lead"]) == both
    assert names(org["boss"]) == both  # two levels down
    assert names(org["rep"], "holdings") == set()  # search does not leak the peer's customer
    company(org["lead"], legal_name="Lead Owned Ltd")
    assert "Lead Owned Ltd" not in names(org["rep"])  # never upwards
    assert "Lead Owned Ltd" in names(org["boss"])


def test_peer_customer_is_refused_by_url_api_and_write(org, client):
    theirs = org["theirs"]
    client.force_login(org["rep"])
    assert client.get(f"/customers/{theirs.customer_number}/").status_code == 404
    assert client.get(f"/customers/{theirs.customer_number}/edit/").status_code == 404
    api = api_for(org["rep"])
    assert api.get(f"/api/v1/customers/{theirs.customer_number}/").status_code == 404
    assert api.get(f"/api/v1/customers/{theirs.customer_number}/page/").status_code == 404
    assert (
        api.patch(f"/api/v1/customers/{theirs.customer_number}/", {"notes": "x"}, format="json").status_code
        == 404
    )
    assert api.delete(f"/api/v1/customers/{theirs.customer_number}/").status_code == 404
    with pytest.raises(PermissionDenied):
        parties.customer_update(
            actor=org["rep"], customer=theirs, expected_version=theirs.version, data={"notes": "x"}
        )
    # their manager can
    lead_api = api_for(org["lead"])
    assert lead_api.get(f"/api/v1/customers/{theirs.customer_number}/").status_code == 200


def test_reassigning_the_owner_and_moving_people_take_effect_at_once(org):
    theirs = org["theirs"]
    assert theirs.pk not in set(customers_for(org["rep"]).values_list("pk", flat=True))
    parties.customer_update(
        actor=org["lead"], customer=theirs, expected_version=theirs.version, data={"owner": org["rep"].pk}
    )
    rep = type(org["rep"]).objects.get(pk=org["rep"].pk)  # a new request: a fresh user object
    assert theirs.pk in set(customers_for(rep).values_list("pk", flat=True))
    # the peer moves under the rep: the rep now sees what the peer owns
    other = company(org["peer"], legal_name="Moved Along Ltd")
    services.set_manager(org["peer"], rep)
    rep = type(rep).objects.get(pk=rep.pk)
    assert other.pk in set(customers_for(rep).values_list("pk", flat=True))
    lead = type(rep).objects.get(pk=org["lead"].pk)
    assert other.pk in set(customers_for(lead).values_list("pk", flat=True))  # still below the lead


def test_a_nine_level_chain_and_no_circles(db):
    chain = [make_user("level0", "sales_manager")]
    for i in range(1, 10):
        chain.append(make_user(f"level{i}", "sales_rep", manager=chain[-1]))
    deep = company(chain[-1], legal_name="Deep Down Ltd")
    top = type(chain[0]).objects.get(pk=chain[0].pk)
    assert deep.pk in set(customers_for(top).values_list("pk", flat=True))
    with pytest.raises(ValidationError) as exc:
        services.set_manager(chain[0], chain[-1])
    assert "manager" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.set_manager(chain[3], chain[3])


def test_shares_read_and_write_with_a_user_or_a_team(org):
    theirs, rep = org["theirs"], org["rep"]
    services.share(theirs, user=rep, access="read", actor=org["peer"])
    rep = type(rep).objects.get(pk=rep.pk)
    assert theirs.pk in set(customers_for(rep).values_list("pk", flat=True))
    assert not can_change(rep, theirs)
    with pytest.raises(PermissionDenied):
        parties.interaction_create(actor=rep, customer=theirs, data={"kind": "call", "subject": "Hello"})
    services.share(theirs, user=rep, access="write", actor=org["peer"])  # upgraded, not duplicated
    rep = type(rep).objects.get(pk=rep.pk)
    assert can_change(rep, theirs)
    parties.interaction_create(actor=rep, customer=theirs, data={"kind": "call", "subject": "Hello"})
    # a team share reaches the members of the team and of its sub-teams
    sales = services.save_team(name="Sales")
    north = services.save_team(name="North", parent=sales)
    outsider = make_user("outsider", "sales_rep")
    services.set_team(outsider, north)
    outsider = type(rep).objects.get(pk=outsider.pk)
    assert theirs.pk not in set(customers_for(outsider).values_list("pk", flat=True))
    services.share(theirs, team=sales, access="read")
    outsider = type(rep).objects.get(pk=outsider.pk)
    assert theirs.pk in set(customers_for(outsider).values_list("pk", flat=True))
    with pytest.raises(ValidationError):
        services.save_team(team=sales, name="Sales", parent=north)  # no circles of teams
    _default, people = who_can_see("customer", owner_id=theirs.owner_id, object_id=theirs.pk)
    why = {r.user.username: " ".join(r.why) for r in people}
    assert "owner" in why["peer"]
    assert "manager of the owner" in why["lead"] and "manager of the owner" in why["boss"]
    assert "shared" in why["rep"]
    assert "team Sales" in why["outsider"]


def test_organisation_defaults_open_a_type_to_everyone_with_the_permission(org):
    services.set_visibility_default("customer", Access.READ)
    rep = type(org["rep"]).objects.get(pk=org["rep"].pk)
    assert {"Rep Owned Trading Ltd", "Peer Owned Holdings Ltd"} <= names(rep)
    assert not can_change(rep, org["theirs"])
    services.set_visibility_default("customer", Access.READ_WRITE)
    rep = type(rep).objects.get(pk=rep.pk)
    assert can_change(rep, org["theirs"])
    nobody = make_user("nobody")  # no role at all: the default does not bypass the permission
    assert customers_for(nobody).count() == 0


def test_view_only_users_browse_but_cannot_change(org, client):
    viewer = make_user("viewer", "viewer", manager=org["rep"])
    mine = org["mine"]
    services.share(mine, user=viewer, access="write")  # even a write share does not give the edit permission
    viewer = type(viewer).objects.get(pk=viewer.pk)
    client.force_login(viewer)
    assert client.get(f"/customers/{mine.customer_number}/").status_code == 200
    assert client.get("/customers/new/").status_code == 403
    api = api_for(viewer)
    assert api.get(f"/api/v1/customers/{mine.customer_number}/").status_code == 200
    answer = api.patch(f"/api/v1/customers/{mine.customer_number}/", {"notes": "x"}, format="json")
    assert answer.status_code == 403
    assert (
        api.post("/api/v1/customers/", {"kind": "person", "family_name": "New"}, format="json").status_code
        == 403
    )
    assert api.delete(f"/api/v1/customers/{mine.customer_number}/").status_code == 403


def test_an_auditor_reads_everything_but_changes_and_exports_nothing(org, client):
    auditor = make_user("auditor1", "auditor")
    assert names(auditor) == {"Rep Owned Trading Ltd", "Peer Owned Holdings Ltd"}
    theirs = org["theirs"]
    assert not can_change(auditor, theirs)
    assert not has_permission(auditor, "customer", "export")
    assert has_permission(auditor, "audit", "view") and has_permission(auditor, "audit", "export")
    client.force_login(auditor)
    assert client.get(f"/customers/{theirs.customer_number}/").status_code == 200
    assert client.get(f"/customers/{theirs.customer_number}/edit/").status_code == 403
    api = api_for(auditor)
    assert api.get(f"/api/v1/customers/{theirs.customer_number}/page/").status_code == 200
    answer = api.patch(f"/api/v1/customers/{theirs.customer_number}/", {"notes": "x"}, format="json")
    assert answer.status_code == 403


def test_new_users_get_least_privilege(db, django_user_model):
    fresh = django_user_model.objects.create_user(username="fresh", password="a-long-Passw0rd!")
    assert sorted(fresh.roles.values_list("code", flat=True)) == ["viewer"]
    assert not has_permission(fresh, "customer", "create")
    assert not has_permission(fresh, "customer", "export")
    assert has_permission(fresh, "customer", "view")
    root = django_user_model.objects.create_superuser(username="root2", password="a-long-Passw0rd!")
    assert sorted(root.roles.values_list("code", flat=True)) == ["administrator"]


def test_the_builtin_roles_hold_exactly_their_matrix(db):
    """Every role × object type × action: what the role grants is what has_permission answers."""
    for code, (_name, _description, spec, _extras) in BUILTIN.items():
        user = make_user(f"u_{code}", code)
        granted = set(permissions_for(spec))
        for t in object_types():
            for action in ACTIONS:
                expected = f"{t.key}.{action}" in granted and action in t.actions
                assert has_permission(user, t.key, action) is expected, (code, t.key, action)
    auditor = make_user("aud", "auditor")
    assert not has_permission(auditor, "customer", "export")
    assert not has_permission(auditor, "customer", "edit")


def test_role_changes_take_effect_at_once(org):
    rep = org["rep"]
    assert not has_permission(rep, "customer", "delete")
    role = Role.objects.get(code="sales_rep")
    services.save_role(
        role=role,
        code=role.code,
        name=role.name,
        permissions=[*role.permissions, "customer.delete"],
    )
    rep = type(rep).objects.get(pk=rep.pk)
    assert has_permission(rep, "customer", "delete")
    with pytest.raises(ValidationError):
        services.save_role(role=role, code=role.code, name=role.name, permissions=["customer.fly"])
    with pytest.raises(ValidationError):  # a stale form is a conflict, not an overwrite
        services.save_role(role=role, code=role.code, name=role.name, permissions=[], version=1)


def test_access_pages_need_the_security_permissions(org, client, admin_user):
    client.force_login(org["rep"])
    assert client.get("/settings/access/").status_code == 403
    assert client.get("/settings/access/roles/").status_code == 403
    client.force_login(admin_user)
    assert client.get("/settings/access/").status_code == 200
    role = Role.objects.get(code="viewer")
    page = client.get(f"/settings/access/roles/{role.pk}/")
    assert page.status_code == 200 and 'value="customer.view"' in page.content.decode()
    answer = client.post(
        f"/settings/access/roles/{role.pk}/",
        {
            "code": "viewer",
            "name": "Viewer",
            "perm": ["customer.view", "customer.export"],
            "version": role.version,
        },
    )
    assert answer.status_code == 302
    role.refresh_from_db()
    assert role.permissions == ["customer.export", "customer.view"]
    answer = client.post(
        f"/settings/access/people/{org['rep'].pk}/",
        {"manager": org["rep"].pk, "roles": []},
    )
    assert answer.status_code == 400  # not their own manager: a field error, nothing saved
    assert "manager" in answer.context["form"].errors
    answer = client.post(
        "/settings/access/visibility/",
        {t.key: "read" if t.key == "customer" else "private" for t in object_types() if t.model},
    )
    assert answer.status_code == 302


def test_sharing_page_explains_and_shares(org, client, admin_user):
    mine = org["mine"]
    client.force_login(org["rep"])
    page = client.get(f"/customers/{mine.customer_number}/access/")
    assert page.status_code == 200
    answer = client.post(
        f"/customers/{mine.customer_number}/access/", {"user": org["peer"].pk, "access": "read"}
    )
    assert answer.status_code == 302
    peer = type(org["peer"]).objects.get(pk=org["peer"].pk)
    assert mine.pk in set(customers_for(peer).values_list("pk", flat=True))
    answer = client.post(f"/customers/{mine.customer_number}/access/", {"access": "read"})
    assert answer.status_code == 400  # neither user nor team
    client.force_login(peer)  # a read share does not let them re-share
    answer = client.post(
        f"/customers/{mine.customer_number}/access/", {"user": org["boss"].pk, "access": "write"}
    )
    assert answer.status_code == 403
    client.force_login(admin_user)
    html = client.get(f"/customers/{mine.customer_number}/access/").content.decode()
    assert "manager of the owner" in html and "owner" in html


def _customer_routes() -> list[tuple[str, str]]:
    """Every web and API route that names one customer by number."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<str:number>" in route:
                    found.append((route, p.name or ""))

    walk(get_resolver().url_patterns, "/")
    return found


def test_idor_every_customer_route_refuses_a_peer(org, client):
    """Replay every route that names a customer with the peer's customer: 403 or 404, never data."""
    theirs = org["theirs"]
    relationship_ids = [1]
    client.force_login(org["rep"])
    api = api_for(org["rep"])
    routes = _customer_routes()
    assert len(routes) >= 10
    for route, name in routes:
        path = route.replace("<str:number>", theirs.customer_number).replace(
            "<int:pk>", str(relationship_ids[0])
        )
        caller = api if path.startswith("/api/") else client
        for method in ("get", "post", "patch", "delete"):
            answer = getattr(caller, method)(path)
            assert answer.status_code in (403, 404, 405), (method, path, name, answer.status_code)
            assert theirs.legal_name.encode() not in answer.content, (method, path)


def test_owner_choices_follow_reach_and_stay_short(org, monkeypatch, admin_user):
    from kith.parties.selectors import catalogues

    offered = {u.username for u in catalogues.account_managers(org["lead"])}
    assert offered == {"lead", "rep", "peer"}  # their reach, not the boss nor strangers
    assert {"boss", "lead", "rep", "peer"} <= {u.username for u in catalogues.account_managers(admin_user)}
    monkeypatch.setattr(
        catalogues, "OWNER_CHOICES_CAP", 2
    )  # a big organisation: cut to me, my reports, the chosen
    offered = {u.username for u in catalogues.account_managers(org["lead"], include=[org["boss"].pk])}
    assert offered == {"lead", "rep", "peer", "boss"}
    offered = {u.username for u in catalogues.account_managers(org["boss"])}
    assert offered == {"boss", "lead"}


def _all_routes() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<" in route and not route.startswith("/django-admin/"):
                    found.append((route, p.name or ""))

    walk(get_resolver().url_patterns, "/")
    return found


def test_idor_every_route_with_an_id_refuses_a_peers_records(org, client):
    """Every route that takes an id, replayed by a representative with the ids of a peer's records
    (customer number, interaction, relationship, special date): no write succeeds, no answer shows the
    peer's customer."""
    import re

    from kith.parties.models import RelationshipType

    peer, theirs = org["peer"], org["theirs"]
    other = company(peer, legal_name="Peer Second Holdings Ltd")
    kind = RelationshipType.objects.create(code="partner", name="partners with", inverse_name="partners with")
    relationship = parties.relationship_add(actor=peer, type=kind, from_customer=theirs, to_customer=other)
    interaction = parties.interaction_create(
        actor=peer, customer=theirs, data={"kind": "call", "subject": "Peer call"}
    )
    special = parties.special_date_add(
        actor=peer, customer=theirs, kind="custom", month=5, day=1, label="Peer day"
    )
    ids = sorted({relationship.pk, interaction.pk, special.pk})
    client.force_login(org["rep"])
    api = api_for(org["rep"])
    routes = _all_routes()
    assert len(routes) >= 30
    secret = (theirs.legal_name.encode(), b"Peer call", b"Peer Second Holdings")
    for route, name in routes:
        for pk in ids:
            path = route.replace("<str:number>", theirs.customer_number)
            path = re.sub(r"<(?:int:)?[a-z_]+>", str(pk), path)
            path = re.sub(r"<[a-z]+:[a-z_]+>", str(pk), path)
            caller = api if path.startswith("/api/") else client
            for method in ("get", "post", "patch", "delete"):
                answer = getattr(caller, method)(path)
                if method != "get":
                    assert not 200 <= answer.status_code < 300, (method, path, name, answer.status_code)
                for text in secret:
                    assert text not in answer.content, (method, path, name)
