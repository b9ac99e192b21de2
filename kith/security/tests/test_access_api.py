"""The access-control administration API: teams, people, roles, visibility defaults and a customer's
shares — the same checks as Settings → Access and the customer's access page, field errors as JSON, an
audit entry for every change, and tokens narrowed to the ``access`` area."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from kith.audit.models import AuditEntry
from kith.parties.tests.factories import person
from kith.security import services, tokens
from kith.security.models import Role, Share, Team, User, VisibilityDefault
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db
API = "/api/v1"
SECRETS = ("password", "otp", "totp", "secret", "token", "key", "hash")


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _bearer(user: Any, *scopes: str) -> APIClient:
    _token, key = tokens.create_token(actor=user, data={"name": "sync", "scopes": list(scopes), "days": 5})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _audited(object_type: str, object_id: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("seq"))


@pytest.fixture
def access_admin() -> Any:
    """Holds ("security", "view") and ("security", "administer") and nothing else: not a superuser."""
    Role.objects.create(
        code="access_admin", name="Access admin", permissions=["security.administer", "security.view"]
    )
    services.changed()
    return make_user("keeper", "access_admin")


@pytest.fixture
def api(access_admin: Any) -> APIClient:
    return _api(access_admin)


# --- teams --------------------------------------------------------------------------------------------
def test_teams_crud_with_field_errors_and_an_audit_entry_for_every_change(api, access_admin):
    created = api.post(f"{API}/teams/", {"name": "Sales", "description": "All of sales"}, format="json")
    assert created.status_code == 201, created.content
    sales = created.json()
    assert sales["parent"] is None and sales["members"] == [] and sales["description"] == "All of sales"
    north = api.post(f"{API}/teams/", {"name": "North", "parent": sales["id"]}, format="json").json()
    assert north["parent"] == {"id": sales["id"], "name": "Sales"}
    assert [t["name"] for t in api.get(f"{API}/teams/").json()["results"]] == ["North", "Sales"]

    renamed = api.patch(f"{API}/teams/{north['id']}/", {"name": "North region"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "North region"
    assert renamed.json()["parent"]["id"] == sales["id"]  # left out: stays

    rep = make_user("rep", "sales_rep")
    services.set_team(rep, Team.objects.get(pk=north["id"]))
    shown = api.get(f"{API}/teams/{north['id']}/").json()
    assert [m["username"] for m in shown["members"]] == ["rep"]

    # bad input: a field error each, and nothing changes
    for body, field in (
        ({"name": ""}, "name"),
        ({"name": "sales"}, "name"),  # names are unique whatever the case
        ({"parent": north["id"]}, "parent"),  # part of itself
        ({"parent": 999999}, "parent"),  # no such team
        ({"members": []}, "members"),  # read-only
    ):
        response = api.patch(f"{API}/teams/{north['id']}/", body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == {field}, response.json()
    cycle = api.patch(f"{API}/teams/{sales['id']}/", {"parent": north["id"]}, format="json")
    assert cycle.status_code == 400 and "parent" in cycle.json()["errors"]
    assert Team.objects.get(pk=sales["id"]).parent_id is None
    assert Team.objects.get(pk=north["id"]).name == "North region"

    # a team with members or sub-teams stays
    refused = api.delete(f"{API}/teams/{sales['id']}/")
    assert refused.status_code == 409 and refused.json()["code"] == "delete_refused"
    assert api.delete(f"{API}/teams/{north['id']}/").status_code == 409  # rep is a member
    services.set_team(rep, None)
    assert api.delete(f"{API}/teams/{north['id']}/").status_code == 204
    assert api.delete(f"{API}/teams/{sales['id']}/").status_code == 204
    assert not Team.objects.exists()
    assert api.get(f"{API}/teams/{sales['id']}/").status_code == 404

    entries = _audited("security.team", north["id"])
    assert [e.changes for e in entries] == [
        {"name": [None, "North"], "parent": [None, sales["id"]]},
        {"name": ["North", "North region"]},
        {"name": ["North region", None], "parent": [sales["id"], None]},
    ]
    assert {(e.action, e.source, e.actor_id) for e in entries} == {
        ("permission_change", "api", access_admin.pk)
    }


# --- people -------------------------------------------------------------------------------------------
def test_people_list_filters_pages_and_shows_no_secret(api, access_admin):
    team = services.save_team(name="Field")
    boss = make_user("boss", "sales_manager")
    reps = [make_user(f"rep{i}", "sales_rep", manager=boss) for i in range(4)]
    for rep in reps[:2]:
        services.set_team(rep, team)
    reps[3].is_active = False
    reps[3].save()

    page = api.get(f"{API}/users/", {"limit": 3})
    assert page.status_code == 200
    data = page.json()
    assert [u["username"] for u in data["results"]] == ["keeper", "boss", "rep0"]
    assert data["next_cursor"] and "cursor=" in data["next"]
    rest = api.get(data["next"]).json()
    assert [u["username"] for u in rest["results"]] == ["rep1", "rep2", "rep3"]
    assert rest["next_cursor"] is None and rest["next"] is None

    row = next(u for u in rest["results"] if u["username"] == "rep1")
    assert set(row) == {
        "id",
        "username",
        "name",
        "email",
        "active",
        "team",
        "manager",
        "roles",
        "last_login",
    }
    assert row["team"] == {"id": team.pk, "name": "Field"}
    assert row["manager"]["username"] == "boss" and row["roles"] == ["sales_rep"]
    for response in (page, api.get(f"{API}/users/{reps[0].pk}/")):
        text = response.content.decode()
        assert not [word for word in SECRETS if word in text.lower()], text
        assert reps[0].password not in text

    def names(**params: Any) -> list[str]:
        response = api.get(f"{API}/users/", params)
        assert response.status_code == 200, response.content
        return [u["username"] for u in response.json()["results"]]

    assert names(team=team.pk) == ["rep0", "rep1"]
    assert names(role="sales_manager") == ["boss"]
    assert names(active="false") == ["rep3"]
    assert names(active="true", role="sales_rep") == ["rep0", "rep1", "rep2"]
    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "x"}, {"team": "x"}, {"active": "maybe"}):
        response = api.get(f"{API}/users/", params)
        assert response.status_code == 400 and set(response.json()["errors"]) == set(params), params

    # the page costs the same few queries however many people it shows
    with CaptureQueriesContext(connection) as small:
        api.get(f"{API}/users/", {"limit": 2})
    with CaptureQueriesContext(connection) as large:
        api.get(f"{API}/users/", {"limit": 6})
    assert len(large) == len(small) <= 8, [q["sql"] for q in large.captured_queries]


def test_setting_manager_team_and_roles_refuses_cycles_and_unknown_ids(api, access_admin):
    team = services.save_team(name="Field")
    boss = make_user("boss", "sales_manager")
    lead = make_user("lead", "sales_rep", manager=boss)
    rep = make_user("rep", "sales_rep", manager=lead)

    changed = api.patch(
        f"{API}/users/{rep.pk}/",
        {"manager": boss.pk, "team": team.pk, "roles": ["sales_rep", "viewer"]},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    data = changed.json()
    assert data["manager"]["id"] == boss.pk and data["team"]["id"] == team.pk
    assert data["roles"] == ["sales_rep", "viewer"]
    rep.refresh_from_db()
    assert rep.manager_id == boss.pk and rep.team_id == team.pk
    assert api.get(f"{API}/users/{rep.pk}/").json() == data
    entries = _audited("security.user", rep.pk)[-3:]  # manager, team, roles
    viewer = Role.objects.get(code="viewer")
    assert [e.changes for e in entries] == [
        {"manager": [lead.pk, boss.pk]},
        {"team": [None, team.pk]},
        {"roles": {"added": [{"id": viewer.pk, "repr": "Viewer"}]}},
    ]
    assert {(e.source, e.actor_id) for e in entries} == {("api", access_admin.pk)}

    for body, field in (
        ({"manager": rep.pk}, "manager"),  # one's own manager
        ({"manager": 999999}, "manager"),  # nobody
        ({"team": 999999}, "team"),
        ({"roles": ["sales_rep", "emperor"]}, "roles"),
        ({"password": "x"}, "password"),
        ({"is_superuser": True}, "is_superuser"),
    ):
        response = api.patch(f"{API}/users/{rep.pk}/", body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == {field}, response.json()

    # boss under lead would make a circle (lead reports to boss): refused, and nothing else changes
    before = AuditEntry.objects.count()
    cycle = api.patch(f"{API}/users/{boss.pk}/", {"manager": lead.pk, "team": team.pk}, format="json")
    assert cycle.status_code == 400 and "circle" in cycle.json()["errors"]["manager"][0]
    boss.refresh_from_db()
    assert boss.manager_id is None and boss.team_id is None
    assert AuditEntry.objects.count() == before
    assert api.patch(f"{API}/users/999999/", {"team": None}, format="json").status_code == 404


# --- roles --------------------------------------------------------------------------------------------
def test_roles_crud_with_the_permission_matrix(api, access_admin):
    created = api.post(
        f"{API}/access-roles/",
        {"code": "support", "name": "Support", "permissions": ["customer.view", "interaction.create"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    role = created.json()
    assert role["permissions"] == ["customer.view", "interaction.create"]
    assert role["builtin"] is False and role["holders"] == 0 and role["version"] == 1

    listed = {r["code"]: r for r in api.get(f"{API}/access-roles/").json()["results"]}
    assert (
        listed["administrator"]["builtin"] is True
        and "security.administer" in (listed["administrator"]["permissions"])
    )
    assert listed["support"] == role

    changed = api.patch(
        f"{API}/access-roles/{role['id']}/",
        {"permissions": ["customer.view", "customer.edit"], "sensitive_clearance": True, "version": 1},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["permissions"] == ["customer.edit", "customer.view"]
    assert changed.json()["sensitive_clearance"] is True and changed.json()["name"] == "Support"
    assert changed.json()["version"] == 2

    for body, field in (
        ({"permissions": ["customer.fly"]}, "permissions"),
        ({"permissions": ["spaceship.view"]}, "permissions"),
        ({"code": "Not A Code"}, "code"),
        ({"name": "Administrator"}, "name"),  # taken
        ({"builtin": True}, "builtin"),
    ):
        response = api.patch(f"{API}/access-roles/{role['id']}/", body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == {field}, response.json()
    stale = api.patch(f"{API}/access-roles/{role['id']}/", {"name": "Old", "version": 1}, format="json")
    assert stale.status_code == 400 and stale.json()["non_field_errors"]
    refused = api.post(
        f"{API}/access-roles/", {"code": "x", "name": "X", "permissions": ["x.y"]}, format="json"
    )
    assert refused.status_code == 400 and "permissions" in refused.json()["errors"]
    assert not Role.objects.filter(code="x").exists()
    assert Role.objects.get(code="support").permissions == ["customer.edit", "customer.view"]

    # built-in roles are edited as on the page, but not deleted; a held role is not deleted either
    viewer = Role.objects.get(code="viewer")
    edited = api.patch(f"{API}/access-roles/{viewer.pk}/", {"description": "Looks only."}, format="json")
    assert edited.status_code == 200 and edited.json()["description"] == "Looks only."
    assert api.delete(f"{API}/access-roles/{viewer.pk}/").status_code == 409
    holder = make_user("holder", "support")
    held = api.delete(f"{API}/access-roles/{role['id']}/")
    assert held.status_code == 409 and held.json()["code"] == "delete_refused"
    services.set_roles(holder, [])
    assert api.delete(f"{API}/access-roles/{role['id']}/").status_code == 204
    assert not Role.objects.filter(code="support").exists()
    assert api.get(f"{API}/access-roles/{role['id']}/").status_code == 404

    created_entry, changed_entry, deleted_entry = _audited("security.role", role["id"])
    assert created_entry.changes["permissions"] == [None, ["customer.view", "interaction.create"]]
    assert changed_entry.changes["permissions"] == [
        ["customer.view", "interaction.create"],
        ["customer.edit", "customer.view"],
    ]
    assert changed_entry.changes["sensitive_clearance"] == [False, True]
    assert deleted_entry.changes["code"] == ["support", None]
    assert {(e.source, e.actor_id) for e in (created_entry, changed_entry, deleted_entry)} == {
        ("api", access_admin.pk)
    }


# --- visibility defaults ------------------------------------------------------------------------------
def test_visibility_defaults_list_and_set(api, access_admin):
    rows = {r["object_type"]: r for r in api.get(f"{API}/visibility-defaults/").json()["results"]}
    assert rows["customer"]["access"] == "private" and "security" not in rows
    response = api.put(f"{API}/visibility-defaults/customer/", {"access": "read"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["object_type"] == "customer" and response.json()["access"] == "read"
    row = VisibilityDefault.objects.get(object_type="customer")
    assert row.access == "read"
    (entry,) = _audited("security.visibilitydefault", row.pk)
    assert entry.changes == {"object_type": [None, "customer"], "access": [None, "read"]}
    assert (entry.source, entry.actor_id) == ("api", access_admin.pk)

    for path, body, field in (
        ("spaceship", {"access": "read"}, "object_type"),  # no such object type
        ("security", {"access": "read"}, "object_type"),  # settings-like: no owners
        ("customer", {"access": "everything"}, "access"),
        ("customer", {}, "access"),
    ):
        bad = api.put(f"{API}/visibility-defaults/{path}/", body, format="json")
        assert bad.status_code == 400, (path, body)
        assert set(bad.json()["errors"]) == {field}, bad.json()
    assert VisibilityDefault.objects.get(object_type="customer").access == "read"
    assert not VisibilityDefault.objects.exclude(object_type="customer").exists()


# --- a customer's shares ------------------------------------------------------------------------------
def test_shares_need_the_right_to_change_the_customer_and_hide_unseen_customers():
    boss = make_user("boss", "sales_manager")
    rep = make_user("rep", "sales_rep", manager=boss)
    peer = make_user("peer", "sales_rep", manager=boss)
    outsider = make_user("outsider", "sales_rep")
    watcher = make_user("watcher", "viewer")
    team = services.save_team(name="Field")
    customer = person(rep, given_name="Li", family_name="Wei")
    url = f"{API}/customers/{customer.customer_number}/shares/"

    # the owner shares with a user and a team
    owner = _api(rep)
    first = owner.post(url, {"user": peer.pk, "access": "write"}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["user"] == {"id": peer.pk, "name": str(peer)} and first.json()["access"] == "write"
    assert first.json()["team"] is None and first.json()["created_by"]["id"] == rep.pk
    second = owner.post(url, {"team": team.pk}, format="json").json()
    assert second["access"] == "read"
    third = owner.post(url, {"user": watcher.pk}, format="json").json()
    listed = owner.get(url).json()["results"]
    assert [s["id"] for s in listed] == [first.json()["id"], second["id"], third["id"]]
    (entry,) = _audited("security.share", second["id"])
    assert entry.changes["team"] == [None, team.pk] and (entry.source, entry.actor_id) == ("api", rep.pk)

    # the same checks as the page: seeing it shows the shares, changing it needs the right to change it
    assert _api(watcher).get(url).status_code == 200  # shared with them, read-only
    for response in (
        _api(watcher).post(url, {"user": outsider.pk}, format="json"),
        _api(watcher).delete(f"{url}{first.json()['id']}/"),
    ):
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    # a customer the caller cannot see is a 404, never a 403
    stranger = _api(outsider)
    for response in (
        stranger.get(url),
        stranger.post(url, {"user": outsider.pk}, format="json"),
        stranger.delete(f"{url}{first.json()['id']}/"),
        stranger.get(f"{API}/customers/NOPE-1/shares/"),
    ):
        assert response.status_code == 404, response.content
    assert Share.objects.count() == 3

    # bad input
    for body, field in (
        ({"user": 999999}, "user"),
        ({"team": 999999}, "team"),
        ({"user": peer.pk, "access": "own"}, "access"),
        ({"user": peer.pk, "team": team.pk}, "grantee"),
        ({}, "grantee"),
    ):
        response = owner.post(url, body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == {field}, response.json()

    # the manager may change the customer, so may stop a share
    assert _api(boss).delete(f"{url}{second['id']}/").status_code == 204
    assert owner.delete(f"{url}{second['id']}/").status_code == 404
    assert Share.objects.count() == 2
    _created, deleted = _audited("security.share", second["id"])
    assert deleted.changes["team"] == [team.pk, None] and deleted.actor_id == boss.pk


# --- who may ------------------------------------------------------------------------------------------
ADMIN_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("get", "teams/", None),
    ("post", "teams/", {"name": "Nope"}),
    ("get", "teams/{team}/", None),
    ("patch", "teams/{team}/", {"name": "Nope"}),
    ("delete", "teams/{team}/", None),
    ("get", "users/", None),
    ("get", "users/{user}/", None),
    ("patch", "users/{user}/", {"roles": ["administrator"]}),
    ("get", "access-roles/", None),
    ("post", "access-roles/", {"code": "nope", "name": "Nope"}),
    ("get", "access-roles/{role}/", None),
    ("patch", "access-roles/{role}/", {"permissions": []}),
    ("delete", "access-roles/{role}/", None),
    ("get", "visibility-defaults/", None),
    ("put", "visibility-defaults/customer/", {"access": "read_write"}),
]


def _call(client: APIClient, method: str, path: str, body: Any, **ids: Any) -> Any:
    return getattr(client, method)(f"{API}/{path.format(**ids)}", body, format="json")


def test_without_the_security_permissions_every_endpoint_is_refused_and_nothing_changes():
    team = services.save_team(name="Field")
    role = Role.objects.create(code="spare", name="Spare")
    rep = make_user("rep", "sales_rep")
    auditor = make_user("auditor1", "auditor")  # holds ("security", "view"), not administer
    ids = {"team": team.pk, "user": rep.pk, "role": role.pk}
    before = AuditEntry.objects.count()
    for method, path, body in ADMIN_CALLS:
        refused = _call(_api(rep), method, path, body, **ids)
        assert refused.status_code == 403, (method, path, refused.content)
        assert refused.json()["code"] == "permission_denied"
        as_auditor = _call(_api(auditor), method, path, body, **ids)
        assert as_auditor.status_code == (200 if method == "get" else 403), (method, path)
        assert _call(APIClient(), method, path, body, **ids).status_code == 401
    assert AuditEntry.objects.count() == before
    assert Team.objects.get().name == "Field" and Role.objects.filter(code="spare").exists()
    assert list(User.objects.get(pk=rep.pk).roles.values_list("code", flat=True)) == ["sales_rep"]
    assert not VisibilityDefault.objects.exists() and not Role.objects.filter(code="nope").exists()


def test_a_token_needs_the_access_area(admin_user, client):
    rep = make_user("rep", "sales_rep")
    customer = person(rep)
    shares = f"{API}/customers/{customer.customer_number}/shares/"
    other_areas = _bearer(admin_user, "customers:read", "customers:write", "audit:read")
    for method, path, body in [*ADMIN_CALLS, ("get", shares[len(API) + 1 :], None)]:
        response = _call(other_areas, method, path, body, team=1, user=rep.pk, role=1)
        assert response.status_code == 403, (method, path)
        assert "access:" in response.json()["detail"]
    reader = _bearer(admin_user, "access:read")
    assert reader.get(f"{API}/teams/").status_code == 200
    assert reader.get(shares).status_code == 200
    refused = reader.post(f"{API}/teams/", {"name": "Field"}, format="json")
    assert refused.status_code == 403 and "access:write" in refused.json()["detail"]
    assert reader.post(shares, {"user": admin_user.pk}, format="json").status_code == 403
    writer = _bearer(admin_user, "access:write")
    assert writer.post(f"{API}/teams/", {"name": "Field"}, format="json").status_code == 201
    assert writer.post(shares, {"user": admin_user.pk}, format="json").status_code == 201
    # the token page offers the area
    client.force_login(admin_user)
    page = client.get("/accounts/tokens/").content.decode()
    assert "access:read" in page and "access:write" in page


def test_the_schema_documents_the_endpoints(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/teams/",
        "/api/v1/teams/{id}/",
        "/api/v1/users/",
        "/api/v1/users/{id}/",
        "/api/v1/access-roles/",
        "/api/v1/access-roles/{id}/",
        "/api/v1/visibility-defaults/",
        "/api/v1/visibility-defaults/{object_type}/",
        "/api/v1/customers/{number}/shares/",
        "/api/v1/customers/{number}/shares/{id}/",
    ):
        assert path in paths, path
    assert paths["/api/v1/roles/"]["get"]["operationId"] == "roles_list"  # the customers' roles stay
    assert paths["/api/v1/access-roles/"]["get"]["operationId"] == "access_roles_list"
    assert "400" in paths["/api/v1/users/{id}/"]["patch"]["responses"]
