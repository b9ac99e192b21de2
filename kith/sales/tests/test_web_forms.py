"""The public web-to-lead form: a person's submission makes a lead; robots (honeypot, too fast, stale or
forged token, rate limit, foreign origin) are refused, counted, answered alike and leave nothing; field
errors are shown; framing follows the allowed sites; the admin pages show the snippet."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client

from kith.sales.choices import LeadSource
from kith.sales.models import Lead, WebForm
from kith.sales.services import web_forms
from kith.sales.tests.lead_factories import rule, web_form
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.KITH_WEB_FORM_MIN_SECONDS = 0
    settings.KITH_RATE_LIMITS = "webform=100000/600"
    settings.KITH_DEFAULT_REGION = "CN"
    cache.clear()


def _post(
    client: Client,
    form: WebForm,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    **data: str,
):
    body = {
        "given_name": "Li",
        "family_name": "Wei",
        "email": "li.wei@example.com",
        "kith_started": token if token is not None else web_forms.start_token(form),
        "website": "",
        **data,
    }
    return client.post(f"/f/{form.key}/", body, headers=headers)


def _refreshed(form: WebForm) -> WebForm:
    return WebForm.objects.get(pk=form.pk)


def test_the_form_page_is_public_and_a_submission_makes_a_lead(client):
    rep = make_user("rep", "sales_rep")
    rule(rep)
    form = web_form(title="Talk to us")
    page = client.get(f"/f/{form.key}/")
    assert page.status_code == 200 and "Talk to us" in page.content.decode()
    assert 'name="website"' in page.content.decode() and 'name="kith_started"' in page.content.decode()
    response = _post(client, form, phone="138 0013 8000")
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    made = Lead.objects.get()
    assert made.source == LeadSource.WEB_FORM and made.web_form == form and made.owner == rep
    assert made.phone == "+8613800138000" and made.created_by is None
    assert _refreshed(form).submissions == 1 and _refreshed(form).rejected == 0


def test_form_owner_and_category_go_to_the_lead(client, admin_user):
    from kith.parties.services import catalogues

    tree = catalogues.category_tree_create(actor=admin_user, data={"name": "Industry"})
    telecom = catalogues.category_create(actor=admin_user, tree=tree, name="Telecom")
    owner = make_user("owner", "sales_rep")
    form = web_form(owner=owner, category=telecom)
    _post(client, form)
    made = Lead.objects.get()
    assert made.owner == owner and made.category == telecom


@pytest.mark.parametrize(
    "case",
    ["honeypot", "no_token", "forged", "other_form", "too_fast", "expired"],
)
def test_robots_are_refused_counted_and_answered_alike(client, settings, case):
    form = web_form()
    other = web_form(name="Other")
    token = web_forms.start_token(form)
    extra: dict[str, str] = {}
    if case == "honeypot":
        extra["website"] = "http://spam.example"
    elif case == "no_token":
        token = ""
    elif case == "forged":
        token = token[:-3] + "abc"
    elif case == "other_form":
        token = web_forms.start_token(other)
    elif case == "too_fast":
        settings.KITH_WEB_FORM_MIN_SECONDS = 3
    elif case == "expired":
        token = web_forms.start_token(form, now=time.time() - 2 * 24 * 3600)
    response = _post(client, form, token=token, website=extra.get("website", ""))
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert not Lead.objects.exists()
    assert _refreshed(form).rejected == 1 and _refreshed(form).submissions == 0


def test_waiting_past_the_minimum_is_accepted(client, settings):
    settings.KITH_WEB_FORM_MIN_SECONDS = 3
    form = web_form()
    _post(client, form, token=web_forms.start_token(form, now=time.time() - 4))
    assert Lead.objects.count() == 1


def test_rate_limit_per_address(client, settings):
    settings.KITH_RATE_LIMITS = "webform=2/600"
    form = web_form()
    for i in range(4):
        _post(client, form, email=f"p{i}@example.com")
    assert Lead.objects.count() == 2
    assert _refreshed(form).rejected == 2
    other_address = Client(REMOTE_ADDR="10.9.9.9")
    _post(other_address, form, email="other@example.com")
    assert Lead.objects.count() == 3


def test_origin_must_be_an_allowed_site_or_kith(client):
    form = web_form(allowed_origins="https://www.example.com\nhttps://shop.example.com")
    _post(client, form, headers={"Origin": "https://evil.example.net"})
    assert not Lead.objects.exists() and _refreshed(form).rejected == 1
    _post(client, form, headers={"Origin": "https://shop.example.com"}, email="a@example.com")
    _post(
        client, form, headers={"Origin": "http://testserver"}, email="b@example.com"
    )  # the framed page itself
    _post(client, form, headers={"Referer": "https://www.example.com/contact"}, email="c@example.com")
    assert Lead.objects.count() == 3


def test_field_errors_are_shown_not_counted(client):
    form = web_form()
    response = _post(client, form, given_name="", family_name="", email="not an email")
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    response = _post(client, form, given_name="", family_name="", email="")
    assert response.status_code == 400 and response.context["form"].errors
    assert not Lead.objects.exists()
    assert _refreshed(form).rejected == 0


def test_inactive_or_unknown_form_is_404(client):
    form = web_form(is_active=False)
    assert client.get(f"/f/{form.key}/").status_code == 404
    assert client.get("/f/nope/").status_code == 404


def test_framing_follows_the_allowed_sites(client):
    anywhere = web_form()
    policy = client.get(f"/f/{anywhere.key}/")["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    limited = web_form(name="L", allowed_origins="https://www.example.com")
    policy = client.get(f"/f/{limited.key}/")["Content-Security-Policy"]
    assert "frame-ancestors https://www.example.com" in policy and "script-src 'self'" in policy
    # the rest of Kith still refuses to be framed
    assert "frame-ancestors 'none'" in client.get("/accounts/login/")["Content-Security-Policy"]


def test_redirect_after_submit(client):
    form = web_form(redirect_url="https://www.example.com/thanks")
    response = _post(client, form)
    assert response.status_code == 302 and response["Location"] == "https://www.example.com/thanks"
    assert "form-action 'self' https://www.example.com" in response["Content-Security-Policy"]


def test_admin_pages_need_administer_and_show_the_snippet(client, user):
    rep = make_user("rep", "sales_rep")
    client.force_login(rep)
    assert client.get("/sales/leads/web-forms/").status_code == 403
    client.force_login(user)
    response = client.post(
        "/sales/leads/web-forms/new/",
        {"name": "Contact", "is_active": "on", "allowed_origins": "https://www.example.com"},
    )
    form = WebForm.objects.get()
    assert response.status_code == 302
    page = client.get(f"/sales/leads/web-forms/{form.pk}/").content.decode()
    assert f"/f/{form.key}/" in page and "&lt;iframe" in page
    bad = client.post(
        "/sales/leads/web-forms/new/",
        {"name": "", "allowed_origins": "not a site", "redirect_url": "ftp://x"},
    )
    assert bad.status_code == 400
    assert {"name", "allowed_origins", "redirect_url"} <= set(bad.context["form"].errors)


def test_an_origin_is_only_a_scheme_host_and_port():
    # an origin ends up in a Content-Security-Policy header: nothing else may ride along
    assert web_forms.origins_of(
        "https://www.Example.com/contact\nhttps://a.example;script-src%20*\nhttp://127.0.0.1:8080\nftp://x.example"
    ) == ["https://www.example.com", "http://127.0.0.1:8080"]
