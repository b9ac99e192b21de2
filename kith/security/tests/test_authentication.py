"""API tokens: cached lookups that still end at once when the token or its user is disabled."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/anniversaries/upcoming/"


@pytest.fixture
def token_client(user):
    cache.clear()
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, token


def _token_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return sum("authtoken_token" in q["sql"] for q in ctx.captured_queries)


def test_second_request_needs_no_token_query(token_client):
    client, _token = token_client
    assert _token_queries(client) == 1
    assert _token_queries(client) == 0


def test_disabling_the_user_ends_the_token_at_once(token_client, user):
    client, _token = token_client
    assert client.get(URL).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(URL).status_code == 401


def test_deleting_the_token_ends_it_at_once(token_client):
    client, token = token_client
    assert client.get(URL).status_code == 200
    token.delete()
    assert client.get(URL).status_code == 401


def test_wrong_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["code"]
