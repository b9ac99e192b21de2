"""Settings → Encryption keys and /api/v1/encryption/: the keyring and the values under each key (counted
in a background job), re-encrypting and rotating as jobs for holders of ("security", "administer"), and a
clear refusal to rotate keys that come from the environment."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from kith.audit.choices import Action
from kith.audit.models import AuditEntry
from kith.core import crypto, keys
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.parties.models import Customer, Phone
from kith.parties.tests.factories import person
from kith.security import encryption
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

PAGE = "/settings/encryption/"
API = "/api/v1/encryption/"
ID_NUMBERS = ("110101199003121234", "110101198511230017")
PHONES = ("+8613800138000", "+8613900139000", "+493055500001")
QUERY_BUDGET = 6  # 4 today: session, user, the last count, the running job (whatever the data)


@pytest.fixture
def keyring_file(tmp_path: Any, settings: Any) -> Any:
    """A keyring of this test's own (a rotation must not touch the one other test processes read)."""
    path = tmp_path / "keys.json"
    settings.KITH_KEYRING_FILE = str(path)
    crypto.forget_keyring()
    yield path
    crypto.forget_keyring()


@pytest.fixture
def boss(keyring_file: Any) -> Any:
    return make_user("boss", "administrator")


@pytest.fixture
def rep(keyring_file: Any) -> Any:
    return make_user("rep", "sales_rep")


@pytest.fixture
def customers(boss: Any) -> list[Customer]:
    return [
        person(
            boss,
            given_name="Li",
            family_name="Wei",
            id_document_number=ID_NUMBERS[0],
            phones=[{"number": PHONES[0]}],
        ),
        person(
            boss,
            given_name="Wang",
            family_name="Fang",
            id_document_number=ID_NUMBERS[1],
            phones=[{"number": PHONES[1]}, {"number": PHONES[2]}],
        ),
        person(boss, given_name="No", family_name="Secrets"),
    ]


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _run_last_job() -> Job:
    job = Job.objects.order_by("-id").first()
    assert job is not None
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    return job


def _reads_back(customers: list[Customer]) -> None:
    assert [Customer.objects.get(pk=c.pk).id_document_number for c in customers[:2]] == list(ID_NUMBERS)
    numbers = sorted(Phone.objects.filter(customer__in=customers).values_list("number", flat=True))
    assert numbers == sorted(PHONES)


def test_the_page_is_for_security_viewers_and_the_settings_link_for_them(
    client: Any, boss: Any, rep: Any, keyring_file: Any
) -> None:
    client.force_login(rep)
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}count/").status_code == 403
    assert client.get(f"{PAGE}rotate/").status_code == 403
    assert client.post(f"{PAGE}rotate/").status_code == 403
    assert not Job.objects.exists()
    auditor = make_user("eve", "auditor")  # ("security", "view"): looks, starts nothing
    client.force_login(auditor)
    page = client.get(PAGE).content.decode()
    assert "Count again" not in page and "Rotate key" not in page
    assert str(keyring_file.parent) not in page  # the server's folders are for administrators only
    assert client.post(f"{PAGE}count/").status_code == 403
    client.force_login(boss)
    page = client.get(PAGE).content.decode()
    ring = crypto.keyring()
    keyring_path = crypto.keyring_path()
    assert ring.primary_id in page and str(keyring_path) in page
    assert crypto.key_id(ring.index_key) in page and "Not counted yet." in page
    assert "Count again" in page and "Rotate key" in page
    key = json.loads(keyring_path.read_text())["keys"][0]
    assert key not in page  # ids only, never keys
    assert "/settings/encryption/" in client.get("/settings/").content.decode()


def test_the_count_runs_as_a_job_and_matches_the_stored_values(
    client: Any, boss: Any, customers: list[Customer], keyring_file: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(boss)
    response = client.post(f"{PAGE}count/")
    assert response.status_code == 302 and response["Location"] == PAGE
    job = Job.objects.get()
    assert job.kind == encryption.COUNT_KIND and job.owner == boss
    assert client.post(f"{PAGE}count/").status_code == 302 and Job.objects.count() == 1  # the same job
    assert "every 2s" in client.get(PAGE).content.decode()  # the page follows the queued job
    _run_last_job()
    panel = client.get(f"{PAGE}job/")
    assert panel["HX-Refresh"] == "true"
    primary = crypto.keyring().primary_id
    found = encryption.key_status(user=boss)
    assert found.counted_at is not None and found.stale == 0
    assert found.status.columns["parties.customer.id_document_number"] == {primary: 2}
    assert found.status.columns["parties.phone.number"] == {primary: 3}
    assert found.status.columns["parties.phone.national_number"] == {primary: 3}
    assert found.status.columns == keys.status().columns  # what the command line counts
    page = client.get(PAGE).content.decode()
    assert "everything under the primary key" in page and "parties.phone.number" in page
    assert 'max="3" value="3"' in page  # the phones' bar: all three under the primary key
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get(PAGE)
    # a new key put first since (a rotation from the command line, say): the count is older than it
    data = json.loads(keyring_file.read_text())
    crypto.write_keyring_file(keyring_file, [crypto.new_key(), *data["keys"]], data["index_key"])
    crypto.forget_keyring()
    page = client.get(PAGE).content.decode()
    assert "The primary key has changed since this count" in page and "8 values under an old key" in page


def test_rotating_from_the_page_reencrypts_everything_under_a_new_key(
    client: Any, boss: Any, customers: list[Customer], keyring_file: Any
) -> None:
    old = crypto.keyring().primary_id
    client.force_login(boss)
    confirm = client.get(f"{PAGE}rotate/")
    assert confirm.status_code == 200 and str(keyring_file) in confirm.content.decode()
    assert not Job.objects.exists()  # the confirmation page starts nothing
    response = client.post(f"{PAGE}rotate/")
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.kind == encryption.ROTATE_KIND
    requested = AuditEntry.objects.get(action=Action.KEY_ROTATION)
    assert requested.changes == {"requested": "rotate", "job": job.pk, "index": False}
    assert requested.actor_id == boss.pk
    job = _run_last_job()
    new = crypto.keyring(reload=True).primary_id
    assert new != old and job.result["new_primary"] == new and job.done == job.total
    assert len(json.loads(keyring_file.read_text())["keys"]) == 2
    assert keys.status().stale == 0
    _reads_back(customers)
    done = AuditEntry.objects.filter(action=Action.KEY_ROTATION).order_by("-seq").first()
    assert done is not None and done.changes["primary"] == new and done.actor_id == boss.pk
    # the page shows the count taken at the end of the job
    page = client.get(PAGE).content.decode()
    assert f'{new}</span> <span class="badge badge-accent">primary' in page
    assert "everything under the primary key" in page
    found = encryption.key_status(user=boss)
    assert found.counted_by == job and found.status.columns["parties.phone.number"] == {new: 3}
    result = client.get(f"/jobs/{job.pk}/").content.decode()  # the job page says what was done
    assert new in result and "Values re-encrypted" in result and PAGE in result


def test_a_rotation_run_again_after_a_lost_worker_adds_no_second_key(
    boss: Any, customers: list[Customer], keyring_file: Any
) -> None:
    job = encryption.start_rotate(actor=boss)
    jobs.run(job.pk)
    job.refresh_from_db()
    ring = json.loads(keyring_file.read_text())["keys"]
    # the same job again from the start, with its checkpoint (as after a worker killed mid-run)
    Job.objects.filter(pk=job.pk).update(status="queued", result={"new_primary": job.result["new_primary"]})
    jobs.run(job.pk)
    assert json.loads(keyring_file.read_text())["keys"] == ring
    assert keys.status().stale == 0


def test_reencrypt_from_the_page_moves_stale_values_under_the_primary_key(
    client: Any, boss: Any, customers: list[Customer], keyring_file: Any
) -> None:
    old = crypto.keyring().primary_id
    data = json.loads(keyring_file.read_text())
    crypto.write_keyring_file(keyring_file, [crypto.new_key(), *data["keys"]], data["index_key"])
    crypto.forget_keyring()
    client.force_login(boss)
    client.post(f"{PAGE}count/")
    _run_last_job()
    found = encryption.key_status(user=boss)
    assert found.stale == 8  # two ID numbers, three phones' numbers and their national numbers
    assert found.status.columns["parties.phone.number"] == {old: 3}
    assert "8 values under an old key" in client.get(PAGE).content.decode()
    assert client.get(f"{PAGE}reencrypt/").status_code == 200
    assert client.post(f"{PAGE}reencrypt/", {"indexes": "on"}).status_code == 302
    job = Job.objects.order_by("-id").first()
    assert job is not None and job.kind == encryption.REENCRYPT_KIND and job.params == {"indexes": True}
    # one change at a time: a second one waits for the first
    refused = client.post(f"{PAGE}rotate/", follow=True)
    assert "has not finished yet" in refused.content.decode() and Job.objects.count() == 2
    _run_last_job()
    assert encryption.key_status(user=boss).stale == 0 and keys.status().stale == 0
    _reads_back(customers)


def test_keys_from_the_environment_are_not_rotated_from_the_web(
    client: Any, boss: Any, monkeypatch: Any, keyring_file: Any
) -> None:
    key = crypto.new_key()
    monkeypatch.setenv(crypto.KEYS_ENV, key)
    monkeypatch.setenv(crypto.INDEX_KEY_ENV, crypto.new_key())
    crypto.forget_keyring()
    customer = person(boss, given_name="Li", family_name="Env", id_document_number=ID_NUMBERS[0])
    primary = crypto.keyring().primary_id
    client.force_login(boss)
    page = client.get(PAGE).content.decode()
    assert "KITH_ENCRYPTION_KEYS" in page and key not in page
    confirm = client.get(f"{PAGE}rotate/").content.decode()
    assert "put a new key first in KITH_ENCRYPTION_KEYS" in confirm
    assert 'btn-danger">Rotate key</button>' not in confirm  # nothing to confirm
    response = client.post(f"{PAGE}rotate/", follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "put a new key first in KITH_ENCRYPTION_KEYS" in text and "restart Kith" in text
    assert not Job.objects.exists() and not keyring_file.exists()
    assert not AuditEntry.objects.filter(action=Action.KEY_ROTATION).exists()
    assert crypto.keyring(reload=True).primary_id == primary
    refused = _api(boss).post(f"{API}rotate/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "keys_from_environment"
    assert "KITH_ENCRYPTION_KEYS" in refused.json()["detail"]
    # re-encrypting is what one does after changing the variable: that runs
    assert _api(boss).post(f"{API}reencrypt/", {}, format="json").status_code == 202
    _run_last_job()
    assert Customer.objects.get(pk=customer.pk).id_document_number == ID_NUMBERS[0]
    crypto.forget_keyring()


def test_the_api_returns_the_status_and_starts_jobs(boss: Any, rep: Any, customers: list[Customer]) -> None:
    api = _api(boss)
    before = api.get(API)
    assert before.status_code == 200
    body = before.json()
    ring = crypto.keyring()
    assert (
        body["source"] == "file"
        and body["primary"] == ring.primary_id
        and body["key_ids"] == [ring.primary_id]
    )
    assert body["index_key_id"] == crypto.key_id(ring.index_key)
    assert body["counted_at"] is None and body["columns"] == {} and body["running_job"] is None
    counted = api.post(f"{API}count/", {}, format="json")
    assert counted.status_code == 202 and counted.json()["kind"] == encryption.COUNT_KIND
    assert api.get(API).json()["running_job"]["id"] == counted.json()["id"]
    _run_last_job()
    body = api.get(API).json()
    assert body["counted_at"] and body["stale"] == 0 and body["count_job"] == counted.json()["id"]
    assert body["columns"]["parties.customer.id_document_number"] == {ring.primary_id: 2}
    text = api.get(API).content.decode()
    for secret in (
        *json.loads(crypto.keyring_path().read_text())["keys"],
        base64.b64encode(ring.index_key).decode(),
    ):
        assert secret not in text
    started = api.post(f"{API}reencrypt/", {"indexes": False}, format="json")
    assert started.status_code == 202 and started.json()["kind"] == encryption.REENCRYPT_KIND
    assert api.post(f"{API}rotate/", {}, format="json").status_code == 409  # one change at a time
    assert api.post(f"{API}reencrypt/", {"bogus": 1}, format="json").status_code == 400
    _run_last_job()
    rotated = api.post(f"{API}rotate/", {"index": True}, format="json")
    assert rotated.status_code == 202 and rotated.json()["kind"] == encryption.ROTATE_KIND
    _run_last_job()
    assert api.get(API).json()["primary"] != ring.primary_id
    _reads_back(customers)
    # a sales representative: neither reads nor starts
    other = _api(rep)
    assert other.get(API).status_code == 403
    for action in ("count", "reencrypt", "rotate"):
        assert other.post(f"{API}{action}/", {}, format="json").status_code == 403
    auditor = _api(make_user("eve", "auditor"))
    looked = auditor.get(API)
    assert looked.status_code == 200 and looked.json()["keyring_file"] == "keys.json"
    assert auditor.post(f"{API}count/", {}, format="json").status_code == 403


def test_the_schema_documents_the_encryption_endpoints(boss: Any) -> None:
    paths = _api(boss).get("/api/schema/", {"format": "json"}).json()["paths"]
    assert paths["/api/v1/encryption/"]["get"]["operationId"] == "encryption_retrieve"
    for action in ("count", "reencrypt", "rotate"):
        post = paths[f"/api/v1/encryption/{action}/"]["post"]
        assert post["operationId"] == f"encryption_{action}" and {"202", "403", "409"} <= set(
            post["responses"]
        )
