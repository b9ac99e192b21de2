"""The start token of the public web-to-lead form is good for one submission: a replay is refused like
other spam (counted, answered alike, nothing made), a field error leaves it usable, and the nonce is kept
in the cache for the token's lifetime."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client

from kith.sales.models import Lead, WebForm
from kith.sales.services import web_forms
from kith.sales.tests.lead_factories import web_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings: Any) -> None:
    settings.KITH_WEB_FORM_MIN_SECONDS = 0
    settings.KITH_RATE_LIMITS = "webform=100000/600"
    settings.KITH_DEFAULT_REGION = "CN"
    cache.clear()


def _post(client: Client, form: WebForm, token: str, **data: str) -> Any:
    body = {
        "given_name": "Li",
        "family_name": "Wei",
        "email": "li.wei@example.com",
        "kith_started": token,
        "website": "",
        **data,
    }
    return client.post(f"/f/{form.key}/", body)


def _submit(form: WebForm, token: str, **data: str) -> web_forms.Submission:
    return web_forms.web_form_submit(
        web_form=form,
        data={"given_name": "Li", "email": "li.wei@example.com", "kith_started": token, **data},
        client="10.1.1.1",
    )


def test_a_replayed_token_is_refused_like_spam(client):
    form = web_form()
    token = web_forms.start_token(form)
    first = _post(client, form, token)
    again = _post(client, form, token, email="someone.else@example.com")
    # answered alike: a robot learns nothing
    assert first.status_code == again.status_code == 200 and "Thank you" in again.content.decode()
    assert list(Lead.objects.values_list("email", flat=True)) == ["li.wei@example.com"]
    counted = WebForm.objects.get(pk=form.pk)
    assert counted.submissions == 1 and counted.rejected == 1


def test_the_service_says_replay_and_a_fresh_token_is_accepted():
    form = web_form()
    token = web_forms.start_token(form)
    assert _submit(form, token).accepted
    refused = _submit(form, token)
    assert not refused.accepted and refused.reason == "replay" and refused.lead is None
    assert _submit(form, web_forms.start_token(form), email="b@example.com").accepted
    assert Lead.objects.count() == 2


def test_pages_shown_in_the_same_second_get_different_tokens():
    form = web_form()
    now = 1_800_000_000.0
    assert web_forms.start_token(form, now=now) != web_forms.start_token(form, now=now)


def test_a_field_error_leaves_the_token_usable(client):
    form = web_form()
    token = web_forms.start_token(form)
    wrong = _post(client, form, token, given_name="", family_name="", email="not an email")
    assert wrong.status_code == 400 and not Lead.objects.exists()
    corrected = _post(client, form, token)  # the page keeps the posted token
    assert corrected.status_code == 200 and Lead.objects.count() == 1
    assert WebForm.objects.get(pk=form.pk).rejected == 0


def test_a_spam_refusal_does_not_use_up_the_token(client):
    form = web_form()
    token = web_forms.start_token(form)
    _post(client, form, token, website="http://spam.example")  # the honeypot
    assert not Lead.objects.exists()
    _post(client, form, token)
    assert Lead.objects.count() == 1


def test_the_nonce_is_claimed_atomically_for_the_tokens_lifetime(settings, monkeypatch):
    settings.KITH_WEB_FORM_MAX_AGE = 3600
    calls: list[tuple[str, int]] = []
    real_add = cache.add

    def add(key: str, value: Any, timeout: int) -> bool:
        calls.append((key, timeout))
        return real_add(key, value, timeout=timeout)

    monkeypatch.setattr(web_forms.cache, "add", add)
    form = web_form()
    token = web_forms.start_token(form)
    assert _submit(form, token).accepted
    assert not _submit(form, token).accepted
    claims = [call for call in calls if ".used." in call[0]]  # (the rate limit counts in the cache too)
    assert len(claims) == 2 and claims[0] == claims[1]  # the same key, added with cache.add each time
    assert claims[0][1] == 3600 + 60  # the token's lifetime (and a minute)


def test_an_older_token_without_nonce_is_single_use_too():
    form = web_form()
    token = signing.dumps({"k": form.key, "t": int(time.time())}, salt="kith.sales.web_form")
    assert _submit(form, token).accepted
    assert _submit(form, token).reason == "replay"
