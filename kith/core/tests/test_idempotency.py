"""Idempotency keys on API POSTs: a repeat with the same key and body replays the first response without
acting again; another body is a 422, a repeat during the first a 409; keys are per caller, expire after a
day, are never kept for a 5xx, and the kept response is encrypted at rest."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson
import pytest
from django.db import connection
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from kith.core import idempotency
from kith.core.models import IdempotencyKey
from kith.parties import services
from kith.parties.models import Customer
from kith.security import tokens
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
BODY = {"kind": "person", "family_name": "Replay", "given_name": "Rita"}


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _post(client: APIClient, body: Any, key: str | None = "key-1", url: str = URL) -> Any:
    headers: dict[str, Any] = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(url, body, format="json", **headers)


def _hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert {"code", "detail", "errors"} <= set(body), body
    return body


def test_a_repeat_replays_the_first_response_and_creates_one_customer(user):
    api = _api(user)
    first = _post(api, BODY)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    again = _post(api, BODY)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Location"] == first["Location"]
    assert Customer.objects.count() == 1
    # the same values in another key order are the same body
    reordered = _post(api, dict(reversed(list(BODY.items()))))
    assert reordered.status_code == 201 and reordered["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1
    # without a key, or with another key, the request acts again
    assert _post(api, BODY, key=None).status_code == 201
    assert _post(api, BODY, key="key-2").status_code == 201
    assert Customer.objects.count() == 3


def test_the_same_key_with_another_body_is_a_422(user):
    api = _api(user)
    assert _post(api, BODY).status_code == 201
    response = _post(api, {**BODY, "given_name": "Other"})
    assert response.status_code == 422
    body = _error(response)
    assert body["code"] == "idempotency_key_reused"
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert Customer.objects.count() == 1


def test_a_repeat_while_the_first_is_in_progress_is_a_409(user):
    IdempotencyKey.objects.create(
        owner=f"user:{user.pk}", key="key-1", method="POST", path=URL, body_hash=_hash(BODY)
    )
    response = _post(_api(user), BODY)
    assert response.status_code == 409
    body = _error(response)
    assert body["code"] == "idempotency_key_in_progress" and "Idempotency-Key" in body["errors"]
    assert not Customer.objects.exists()
    # another body with a key in progress is still a misuse of the key
    assert _post(_api(user), {**BODY, "given_name": "X"}).status_code == 422


def test_an_in_progress_row_left_by_a_dead_process_is_given_up(user):
    row = IdempotencyKey.objects.create(
        owner=f"user:{user.pk}", key="key-1", method="POST", path=URL, body_hash=_hash(BODY)
    )
    IdempotencyKey.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - idempotency.ABANDONED_AFTER - dt.timedelta(seconds=1)
    )
    assert _post(_api(user), BODY).status_code == 201
    assert Customer.objects.count() == 1
    assert IdempotencyKey.objects.get().completed


def test_keys_belong_to_their_caller(user):
    other = make_user("other", "sales_manager")
    mine, theirs = _post(_api(user), BODY), _post(_api(other), BODY)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["customer_number"] != theirs.json()["customer_number"]
    assert Customer.objects.count() == 2
    # each replays their own
    replay = _post(_api(other), BODY)
    assert replay["Idempotent-Replayed"] == "true" and replay.content == theirs.content


def test_an_api_token_has_keys_of_its_own_and_its_scopes_still_apply(user):
    _token, write_key = tokens.create_token(
        actor=user, data={"name": "sync", "scopes": ["customers:read", "customers:write"], "days": 5}
    )
    _token, read_key = tokens.create_token(actor=user, data={"name": "ro", "scopes": ["customers:read"]})
    writer, reader = APIClient(), APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {write_key}")
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
    first = _post(writer, BODY)
    assert first.status_code == 201
    assert _post(writer, BODY)["Idempotent-Replayed"] == "true"
    # a token without the write scope neither replays nor acts
    refused = _post(reader, BODY)
    assert refused.status_code == 403 and "Idempotent-Replayed" not in refused
    # the same user signed in has other keys than their token
    assert "Idempotent-Replayed" not in _post(_api(user), BODY)
    assert Customer.objects.count() == 2


def test_expired_keys_are_ignored_and_purged(user):
    api = _api(user)
    assert _post(api, BODY).status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - idempotency.LIFETIME - dt.timedelta(minutes=1))
    # another body would be a 422 within the day; expired, the key is new again
    again = _post(api, {**BODY, "given_name": "Later"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Customer.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1 and IdempotencyKey.objects.get().completed
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert idempotency.purge_expired() == 1
    assert not IdempotencyKey.objects.exists()


def test_a_4xx_is_kept_and_replayed(user):
    api = _api(user)
    bad = {"kind": "person", "family_name": "x" * 10_000}
    first = _post(api, bad)
    assert first.status_code == 400
    again = _post(api, bad)
    assert again.status_code == 400 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content


def test_a_5xx_is_not_kept_so_the_client_may_try_again(user, monkeypatch):
    api = _api(user)
    api.raise_request_exception = False

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "customer_create", broken)
    assert _post(api, BODY).status_code == 500
    assert not IdempotencyKey.objects.exists()
    monkeypatch.undo()
    retry = _post(api, BODY)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "schlüssel", "tab\there"])
def test_a_malformed_key_is_a_field_error(user, key):
    response = _post(_api(user), BODY, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in _error(response)["errors"]
    assert not Customer.objects.exists() and not IdempotencyKey.objects.exists()


def test_the_key_is_per_path_and_ignored_on_reads(user):
    api = _api(user)
    assert _post(api, BODY).status_code == 201
    response = api.get(URL, HTTP_IDEMPOTENCY_KEY="key-1")
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    number = Customer.objects.get().customer_number
    archived = _post(api, {"version": 1}, url=f"{URL}{number}/archive/")
    assert archived.status_code == 200 and "Idempotent-Replayed" not in archived
    assert IdempotencyKey.objects.count() == 2


def test_the_kept_response_is_encrypted_at_rest(user):
    assert _post(_api(user), BODY).status_code == 201
    row = IdempotencyKey.objects.get()
    assert "Replay" in row.content
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT content FROM {IdempotencyKey._meta.db_table}")  # noqa: S608
        (raw,) = cursor.fetchone()
    assert raw.startswith("enc1:") and "Replay" not in raw


def test_the_schema_documents_the_header_on_posts():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    def header_names(path: str, method: str) -> list[str]:
        operation = schema["paths"][path][method]
        return [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]

    assert "Idempotency-Key" in header_names("/api/v1/customers/", "post")
    assert "Idempotency-Key" in header_names("/api/v1/customers/bulk/", "post")
    assert "Idempotency-Key" not in header_names("/api/v1/customers/", "get")
    assert "Idempotency-Key" not in header_names("/api/v1/auth/token/", "post")
