"""Access statistics: searches in the access log, the daily rollup, "who looked", the security dashboard,
the mass-harvesting alerts and their thresholds."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from kith.audit import rollup, watch
from kith.audit.choices import AccessKind, Action, AlertKind, Source
from kith.audit.models import AccessDaily, AccessLog, Alert, AuditEntry
from kith.audit.services import log_access
from kith.audit.tasks import notify_alert, rollup_access
from kith.core.schedule import run_due
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}


@pytest.fixture(autouse=True)
def _fresh_counters():  # type: ignore[no-untyped-def]
    """Counters and cached thresholds live in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_client(client, admin_user):  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    return client


def _searches(**filters):  # type: ignore[no-untyped-def]
    return list(AccessLog.objects.filter(kind=AccessKind.SEARCH, **filters).order_by("id"))


# --- searches in the access log ----------------------------------------------------------------------


def test_web_searches_are_logged_with_the_customers_shown(admin_client, admin_user):
    smiths = [person(actor=admin_user, family_name="Smithers", given_name=n) for n in ("Ann", "Bob")]
    company(actor=admin_user, legal_name="Unrelated Ltd")

    assert admin_client.get("/customers/").status_code == 200  # the plain list is not a search
    assert _searches() == []

    assert admin_client.get("/customers/", {"q": "Smithers"}, **HTMX).status_code == 200
    assert admin_client.get("/customers/", {"kind": "company"}).status_code == 200
    logged = _searches()
    assert len(logged) == 2
    text, filtered = logged
    assert (text.user_id, text.source, text.query, text.result_count) == (
        admin_user.pk,
        Source.WEB,
        "Smithers",
        2,
    )
    assert sorted(text.customer_ids) == sorted(c.pk for c in smiths)
    assert text.customer_count == 2
    assert filtered.query == "" and filtered.filters == "kind=company"
    assert filtered.result_count == len(filtered.customer_ids) == 1


def test_api_searches_are_logged_with_the_customers_returned(admin_user):
    found = person(actor=admin_user, family_name="Zwingli")
    person(actor=admin_user, family_name="Other")
    api = APIClient()
    api.force_authenticate(admin_user)

    assert api.get("/api/v1/customers/").status_code == 200
    assert _searches() == []
    response = api.get("/api/v1/customers/", {"q": "Zwingli", "kind": "person"})
    assert response.status_code == 200
    (row,) = _searches()
    assert row.source == Source.API and row.query == "Zwingli"
    assert row.customer_ids == [r["id"] for r in response.json()["results"]] == [found.pk]
    assert row.filters == "kind=person"


def test_exports_can_be_logged_with_every_row(admin_user):
    ids = list(range(1, 3001))
    row = log_access(admin_user, AccessKind.EXPORT, customer_ids=ids, filters={"tag": "vip"})
    row.refresh_from_db()
    assert row.customer_ids == ids and row.customer_count == 3000 and row.filters == "tag=vip"


# --- daily figures and the rollup --------------------------------------------------------------------


def _row(user, kind, ids, day, **extra):  # type: ignore[no-untyped-def]
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return AccessLog.objects.create(
        timestamp=at,
        day=day,
        user_id=user.pk,
        username=user.username,
        kind=kind,
        source=Source.WEB,
        customer_ids=ids,
        customer_count=len(ids),
        **extra,
    )


def test_the_daily_rollup_equals_the_live_figures(admin_user, user, django_capture_on_commit_callbacks):
    day = timezone.now().date() - dt.timedelta(days=2)
    for cid in (1, 2, 2, 3):
        _row(admin_user, AccessKind.VIEW, [cid], day)
    _row(admin_user, AccessKind.SEARCH, [4, 5, 6], day, query="x")
    _row(admin_user, AccessKind.EXPORT, list(range(10, 20)), day)
    _row(user, AccessKind.VIEW, [1], day)
    _row(user, AccessKind.VIEW, [1], day + dt.timedelta(days=1))

    live = rollup.live_figures(day, day + dt.timedelta(days=1))
    by_user = {(f.day, f.username): f for f in live}
    root = by_user[(day, "root")]
    assert (root.views, root.customers, root.searches, root.search_results, root.exports, root.exported) == (
        4,
        3,
        1,
        3,
        1,
        10,
    )

    assert rollup_access.call(timezone.now().date().isoformat()) == [
        day.isoformat(),
        (day + dt.timedelta(days=1)).isoformat(),
    ]
    stored = {(r.day, r.username): r for r in AccessDaily.objects.all()}
    assert set(stored) == set(by_user)
    for key, figures in by_user.items():
        assert {n: getattr(stored[key], n) for n in rollup.FIELDS} == {
            n: getattr(figures, n) for n in rollup.FIELDS
        }
    # the figures now come from the table for those days, and live for today
    log_access(user, AccessKind.VIEW, customer_ids=[7])
    combined = rollup.figures(day, timezone.now().date())
    assert [(f.day, f.username, f.views) for f in combined if f.username == "manager"] == [
        (day, "manager", 1),
        (day + dt.timedelta(days=1), "manager", 1),
        (timezone.now().date(), "manager", 1),
    ]
    # the rollup runs again only for the days it has not done
    assert rollup_access.call(timezone.now().date().isoformat()) == []


def test_the_rollup_is_a_daily_job(django_capture_on_commit_callbacks, settings):
    settings.TIME_ZONE = "UTC"
    due = timezone.make_aware(dt.datetime(2026, 3, 10, 1, 5), dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert "audit.access_rollup" in run_due(due)
    queued = DBTaskResult.objects.get(task_path__endswith=".rollup_access")
    assert queued.args_kwargs == {"args": ["2026-03-10"], "kwargs": {}}


def test_the_access_page_shows_the_figures(admin_client, admin_user):
    log_access(admin_user, AccessKind.VIEW, customer_ids=[1])
    log_access(admin_user, AccessKind.VIEW, customer_ids=[1])
    log_access(admin_user, AccessKind.EXPORT, customer_ids=[1, 2, 3])
    response = admin_client.get("/audit/access/")
    row = response.context["rows"][0]
    assert (row.username, row.views, row.customers, row.exported) == ("root", 2, 1, 3)
    assert admin_client.get("/audit/access/", {"date_from": "nope"}).status_code == 400


# --- who looked at this customer ---------------------------------------------------------------------


def test_the_history_page_says_who_looked_at_the_customer(admin_client, admin_user):
    rep = make_user("rep", "sales_rep")
    customer = person(actor=rep, family_name="Watched", owner=rep.pk)
    other = person(actor=admin_user, family_name="Elsewhere")
    rep_client = APIClient()
    rep_client.force_authenticate(rep)
    assert rep_client.get("/api/v1/customers/", {"q": "Watched"}).status_code == 200
    assert admin_client.get(f"/customers/{customer.customer_number}/").status_code == 200
    assert admin_client.get(f"/customers/{other.customer_number}/").status_code == 200
    log_access(admin_user, AccessKind.EXPORT, customer_ids=[other.pk, customer.pk])

    page = admin_client.get(f"/customers/{customer.customer_number}/history/")
    assert page.status_code == 200
    seen = {(looker.username, looker.kind, looker.times) for looker in page.context["lookers"]}
    assert seen == {("rep", "search", 1), ("root", "view", 1), ("root", "export", 1)}
    assert "Who looked at this customer" in page.content.decode()

    # a sales rep sees the history of their customer, but not who looked at it
    plain = Client()
    plain.force_login(rep)
    own = plain.get(f"/customers/{customer.customer_number}/history/")
    assert own.status_code == 200
    assert own.context["lookers"] is None
    assert "Who looked at this customer" not in own.content.decode()


# --- the dashboard -----------------------------------------------------------------------------------


def test_the_dashboard_needs_the_audit_permission(client, admin_user):
    rep = make_user("rep", "sales_rep")
    auditor = make_user("aud", "auditor")
    client.force_login(rep)
    assert client.get("/audit/dashboard/").status_code == 403
    client.force_login(auditor)
    assert client.get("/audit/dashboard/").status_code == 200
    client.force_login(admin_user)
    assert client.get("/audit/dashboard/").status_code == 200


def test_the_dashboard_has_its_charts_data(admin_client, admin_user):
    rep = make_user("rep", "sales_rep")
    for cid in (1, 2, 2):
        log_access(rep, AccessKind.VIEW, customer_ids=[cid])
    log_access(rep, AccessKind.SEARCH, customer_ids=[1, 2], query="a")
    log_access(admin_user, AccessKind.VIEW, customer_ids=[9])
    Client().post("/accounts/login/", {"username": "rep", "password": "wrong"})
    from kith.audit.services import record_event

    record_event(Action.LOGIN_FAILED, object_type="security.user", object_repr="ghost")
    make_user("newbie", "viewer")  # a role change: a permission change in the trail

    response = admin_client.get("/audit/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script id="dashboard-data" type="application/json">' in html
    assert "vendor/chart-4.6.1.umd.min.js" in html and "audit/dashboard.js" in html
    assert "<script>" not in html  # no inline script under the Content-Security-Policy
    start = html.index('<script id="dashboard-data" type="application/json">')
    data = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert len(data["days"]) == 30 and data["days"][-1] == timezone.now().date().isoformat()
    assert data["views"][-1] == 4 and data["searches"][-1] == 1 and data["exported"][-1] == 0
    assert data["failed_logins"][-1] >= 1
    top = response.context["top_today"]
    assert [(t.username, t.customers, t.views) for t in top] == [("rep", 2, 3), ("root", 1, 1)]
    assert response.context["permission_changes"]
    assert all(e.action == Action.PERMISSION_CHANGE for e in response.context["permission_changes"])


# --- alerts ------------------------------------------------------------------------------------------


def test_crossing_the_threshold_raises_one_alert_and_emails_the_admins(
    admin_user, django_capture_on_commit_callbacks
):
    security_admin = make_user("sec", "administrator", email="sec@example.com")
    rep = make_user("rep", "sales_rep", email="rep@example.com")
    watch.set_thresholds(actor=admin_user, views=3, search=100, export=100)

    with django_capture_on_commit_callbacks(execute=True):
        for cid in (1, 2):
            log_access(rep, AccessKind.VIEW, customer_ids=[cid])
    assert not Alert.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        for cid in (3, 4, 5):
            log_access(rep, AccessKind.VIEW, customer_ids=[cid])
    (alert,) = Alert.objects.all()
    assert (alert.user_id, alert.kind, alert.count, alert.threshold, alert.day) == (
        rep.pk,
        AlertKind.VIEWS,
        3,
        3,
        timezone.now().date(),
    )
    queued = DBTaskResult.objects.filter(task_path__endswith=".notify_alert")
    assert queued.count() == 1 and queued.get().args_kwargs["args"] == [alert.pk]
    assert mail.outbox == []  # nothing was sent during the request

    sent = notify_alert.call(alert.pk)
    assert sorted(sent) == sorted([admin_user.email, security_admin.email])
    (message,) = mail.outbox
    assert "rep" in message.subject and "rep viewed 3 customers" in message.body
    assert "rep@example.com" not in message.to

    # a restarted process (empty cache) starts from the log: still one alert for the day
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        log_access(rep, AccessKind.VIEW, customer_ids=[6])
    assert Alert.objects.count() == 1
    # another user has their own counter; exports have theirs
    with django_capture_on_commit_callbacks(execute=True):
        log_access(admin_user, AccessKind.EXPORT, customer_ids=range(150))
    assert Alert.objects.filter(user=admin_user, kind=AlertKind.EXPORT, count=150).count() == 1


def test_a_restarted_process_still_sees_the_crossing(admin_user):
    rep = make_user("rep", "sales_rep")
    watch.set_thresholds(actor=admin_user, views=3, search=0, export=0)
    log_access(rep, AccessKind.VIEW, customer_ids=[1])
    log_access(rep, AccessKind.VIEW, customer_ids=[2])
    cache.clear()
    log_access(rep, AccessKind.VIEW, customer_ids=[3])
    assert Alert.objects.filter(user=rep, count=3).count() == 1
    log_access(rep, AccessKind.SEARCH, customer_ids=list(range(500)))  # 0: the check is off
    assert Alert.objects.count() == 1


def test_the_rollup_raises_alerts_the_counters_missed(admin_user):
    rep = make_user("rep", "sales_rep")
    watch.set_thresholds(actor=admin_user, views=2, search=0, export=0)
    day = timezone.now().date() - dt.timedelta(days=1)
    for cid in (1, 2, 3):
        _row(rep, AccessKind.VIEW, [cid], day)  # written without the counter (as another app server)
    rollup.rollup_until()
    assert Alert.objects.filter(user=rep, day=day, kind=AlertKind.VIEWS, count=3).count() == 1
    rollup.rollup_day(day)
    assert Alert.objects.count() == 1


def test_acknowledging_an_alert_is_audited(admin_client, admin_user, entries):
    rep = make_user("rep", "sales_rep")
    alert = watch.raise_alert(
        user_id=rep.pk, username="rep", day=timezone.now().date(), kind=AlertKind.VIEWS, count=9, threshold=5
    )
    assert alert is not None
    page = admin_client.get("/audit/dashboard/")
    assert alert in page.context["open_alerts"]

    client = Client()
    client.force_login(make_user("aud", "auditor"))
    assert client.post(f"/audit/alerts/{alert.pk}/acknowledge/").status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None

    response = admin_client.post(f"/audit/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user and alert.acknowledged_at is not None
    (entry,) = entries(object_type="audit.alert", action=Action.UPDATE)
    assert entry.actor_id == admin_user.pk and entry.object_id == str(alert.pk)
    assert set(entry.changes) == {"acknowledged_at", "acknowledged_by"}
    assert alert not in admin_client.get("/audit/dashboard/").context["open_alerts"]
    # twice: a message, not an error
    again = admin_client.post(f"/audit/alerts/{alert.pk}/acknowledge/", follow=True)
    assert again.status_code == 200 and "already acknowledged" in again.content.decode()
    assert admin_client.post("/audit/alerts/999999/acknowledge/").status_code == 404


def test_the_threshold_settings_page(admin_client):
    client = Client()
    client.force_login(make_user("aud", "auditor"))
    assert client.get("/audit/settings/").status_code == 403
    assert client.post("/audit/settings/", {"views": 1, "search": 1, "export": 1}).status_code == 403

    page = admin_client.get("/audit/settings/")
    assert page.status_code == 200 and page.context["form"].initial == {
        "views": 200,
        "search": 5000,
        "export": 5000,
    }
    bad = admin_client.post("/audit/settings/", {"views": "many", "search": "-1", "export": "10"})
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"views", "search"}
    assert watch.thresholds().views == 200

    saved = admin_client.post("/audit/settings/", {"views": "50", "search": "0", "export": "1000"})
    assert saved.status_code == 302
    assert watch.thresholds().as_dict() == {"views": 50, "search": 0, "export": 1000}
    assert AuditEntry.objects.filter(object_type="core.sitesetting").exists()


def test_set_thresholds_refuses_bad_values(admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        watch.set_thresholds(actor=admin_user, views="x", search=-5, export=10**12)
    assert set(caught.value.message_dict) == {"views", "search", "export"}
