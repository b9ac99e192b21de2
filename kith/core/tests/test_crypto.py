"""Encryption at rest: sensitive columns hold AES-GCM tokens bound to their column, exact lookups go through
keyed blind indexes, the audit trail keeps the same tokens, and `kith keys rotate` re-encrypts everything
while old audit entries stay readable."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from kith.audit.choices import Action
from kith.audit.models import AuditEntry
from kith.core import crypto, keys
from kith.parties import services
from kith.parties.models import Customer, Phone, SpecialDate
from kith.parties.selectors.anniversaries import anniversaries_on
from kith.parties.tests.factories import person
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003121234"
PHONE = "+8613800138000"


@pytest.fixture
def keyring_file(tmp_path: Any, settings: Any) -> Any:
    """A keyring of this test's own (rotation must not touch the one other test processes read)."""
    path = tmp_path / "keys.json"
    settings.KITH_KEYRING_FILE = str(path)
    return path


def _raw(table: str, pk: int, *columns: str) -> tuple[Any, ...]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE id = %s",  # noqa: S608
            [pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _li(owner: Any) -> Customer:
    return person(
        owner,
        given_name="Li",
        family_name="Wei",
        birth_date="1990-03-12",
        id_document_number=ID_NUMBER,
        phones=[{"number": PHONE, "label": "mobile"}],
    )


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _found(user: Any, q: str) -> list[str]:
    response = _api(user).get("/api/v1/customers/", {"q": q})
    assert response.status_code == 200, response.content
    return [row["customer_number"] for row in response.json()["results"]]


def test_sensitive_columns_hold_tokens_and_read_back_plain(user: Any, keyring_file: Any) -> None:
    customer = _li(user)
    birth, id_number, id_index = _raw(
        "parties_customer", customer.pk, "birth_date", "id_document_number", "id_document_index"
    )
    for token in (birth, id_number):
        assert crypto.is_token(token) and token.split(":")[1] == crypto.keyring().primary_id
    assert "1990-03-12" not in birth and ID_NUMBER not in id_number
    assert len(id_index) == crypto.INDEX_LENGTH and ID_NUMBER not in id_index
    phone = customer.phones.get()
    number, national = _raw("parties_phone", phone.pk, "number", "national_number")
    assert "13800138000" not in number + national and crypto.is_token(number) and crypto.is_token(national)
    fresh = Customer.objects.get(pk=customer.pk)
    assert fresh.birth_date == dt.date(1990, 3, 12) and fresh.id_document_number == ID_NUMBER
    assert fresh.phones.get().number == PHONE and fresh.phones.get().national_number == "13800138000"
    # the keyring file was made on first use, readable by its owner only
    assert keyring_file.stat().st_mode & 0o077 == 0
    # the same value encrypts differently every time (a random nonce): equal values are not visible
    assert crypto.seal(ID_NUMBER, "parties.customer.id_document_number") != id_number


def test_a_token_only_opens_in_its_own_column_and_with_its_key(user: Any, keyring_file: Any) -> None:
    customer = _li(user)
    (token,) = _raw("parties_customer", customer.pk, "id_document_number")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_token(token, "parties.customer.notes")  # moved to another column
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_token(tampered, "parties.customer.id_document_number")
    crypto.write_keyring_file(keyring_file, [crypto.new_key()], crypto.new_key())  # a wrong keyring
    crypto.forget_keyring()
    with pytest.raises(crypto.DecryptionError):
        Customer.objects.get(pk=customer.pk)


def test_encrypted_columns_refuse_value_lookups() -> None:
    with pytest.raises(FieldError, match="encrypted"):
        list(Customer.objects.filter(id_document_number=ID_NUMBER))
    with pytest.raises(FieldError, match="encrypted"):
        list(Phone.objects.filter(**{"number__startswith": "+86"}))
    assert list(Customer.objects.filter(id_document_number="")) == []  # "nothing recorded" still filters


def test_phones_are_found_in_any_format_through_the_blind_index(user: Any, keyring_file: Any) -> None:
    customer = _li(user)
    for typed in ("+86 138 0013 8000", "+8613800138000", "13800138000", "138-0013-8000"):
        assert customer.customer_number in _found(user, typed), typed
    assert _found(user, "13800138001") == []


def test_id_numbers_are_found_only_by_readers_who_may_see_them(user: Any, keyring_file: Any) -> None:
    customer = _li(user)
    cleared = with_clearance(make_user("cleared", "sales_manager", manager=user))
    user.manager = cleared
    user.save()
    from kith.security.services import rebuild_reach

    rebuild_reach()
    assert _found(cleared, ID_NUMBER) == [customer.customer_number]
    assert _found(cleared, "110101 19900312 1234") == [customer.customer_number]  # spacing ignored
    # without clearance the ID number is masked: a hit would confirm it, so it is not a search key
    assert _found(user, ID_NUMBER) == []


def test_birthdays_keep_day_and_month_and_the_age_comes_from_the_encrypted_date(
    user: Any, keyring_file: Any
) -> None:
    customer = _li(user)
    derived = SpecialDate.objects.get(customer=customer, kind="birthday")
    assert (derived.year, derived.month, derived.day) == (None, 3, 12)
    (found,) = anniversaries_on(user=with_clearance(user), date=dt.date(2026, 3, 12))
    assert found.customer_id == customer.pk and found.years == 36


def test_the_audit_trail_keeps_tokens_and_shows_plain_values(
    user: Any, keyring_file: Any, client: Any
) -> None:
    customer = _li(user)
    services.customer_update(
        actor=with_clearance(user),
        customer=customer,
        expected_version=None,
        data={"id_document_number": "X9876543"},
    )
    entries = AuditEntry.objects.filter(object_type="parties.customer", object_id=str(customer.pk))
    assert not entries.filter(changes__icontains=ID_NUMBER).exists()
    assert not entries.filter(changes__icontains="X9876543").exists()
    assert not AuditEntry.objects.filter(object_repr__contains="13800138000").exists()
    admin = make_user("root2", "administrator")
    client.force_login(admin)
    history = client.get(f"/customers/{customer.customer_number}/history/").content.decode()
    assert ID_NUMBER in history and "X9876543" in history


def test_rotation_reencrypts_everything_and_old_audit_entries_still_open(
    user: Any, keyring_file: Any, client: Any
) -> None:
    customer = _li(user)
    old_id = crypto.keyring().primary_id
    out = io.StringIO()
    call_command("keys", "rotate", stdout=out, stderr=io.StringIO())
    new_id = crypto.keyring().primary_id
    assert new_id != old_id and f"{new_id} (primary)" in out.getvalue()
    found = keys.status()
    assert found.stale == 0
    assert found.columns["parties.customer.id_document_number"] == {new_id: 1}
    assert found.columns["parties.phone.number"] == {new_id: 1}
    (token,) = _raw("parties_customer", customer.pk, "id_document_number")
    assert crypto.token_key_id(token) == new_id
    assert Customer.objects.get(pk=customer.pk).id_document_number == ID_NUMBER
    assert _found(user, "13800138000") == [customer.customer_number]
    # the entries written before the rotation are under the old key, which the ring keeps
    admin = make_user("root2", "administrator")
    client.force_login(admin)
    assert ID_NUMBER in client.get(f"/customers/{customer.customer_number}/history/").content.decode()
    rotation = AuditEntry.objects.get(action=Action.KEY_ROTATION)
    assert rotation.changes["primary"] == new_id
    assert rotation.changes["reencrypted"]["parties.customer.id_document_number"] == 1
    # a new index key: every blind index is computed again, and lookups still find the row
    (index_before,) = _raw("parties_phone", customer.phones.get().pk, "number_index")
    call_command("keys", "rotate", "--index", stdout=io.StringIO(), stderr=io.StringIO())
    (index_after,) = _raw("parties_phone", customer.phones.get().pk, "number_index")
    assert index_after != index_before
    assert _found(user, "+86 138 0013 8000") == [customer.customer_number]
    assert json.loads(keyring_file.read_text())["keys"].__len__() == 3


def test_keys_from_the_environment(monkeypatch: Any, keyring_file: Any) -> None:
    key = crypto.new_key()
    monkeypatch.setenv(crypto.KEYS_ENV, key)
    crypto.forget_keyring()
    with pytest.raises(ImproperlyConfigured, match=crypto.INDEX_KEY_ENV):
        crypto.keyring()
    monkeypatch.setenv(crypto.INDEX_KEY_ENV, base64.b64encode(b"short").decode())
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        crypto.keyring()
    monkeypatch.setenv(crypto.INDEX_KEY_ENV, crypto.new_key())
    ring = crypto.keyring(reload=True)
    assert ring.source == "environment" and ring.keys == (base64.b64decode(key),)
    assert not keyring_file.exists()
    with pytest.raises(ImproperlyConfigured, match="reencrypt"):
        keys.rotate()
    crypto.forget_keyring()


def test_the_migration_encrypts_existing_plain_values(user: Any, keyring_file: Any) -> None:
    customer = _li(user)
    phone = customer.phones.get()
    with connection.cursor() as cursor:  # as a database from before encryption held them
        cursor.execute(
            "UPDATE parties_customer SET birth_date = %s, id_document_number = %s, id_document_index = '' "
            "WHERE id = %s",
            ["1990-03-12", ID_NUMBER, customer.pk],
        )
        cursor.execute(
            "UPDATE parties_phone SET number = %s, national_number = %s, number_index = '', "
            "national_index = '' WHERE id = %s",
            [PHONE, "13800138000", phone.pk],
        )
        cursor.execute("UPDATE parties_specialdate SET year = 1990 WHERE customer_id = %s", [customer.pk])
    assert Customer.objects.get(pk=customer.pk).id_document_number == ID_NUMBER  # plain still reads
    migration = __import__("kith.parties.migrations.0004_encrypted_at_rest", fromlist=["encrypt_existing"])
    migration.encrypt_existing(apps, SimpleNamespace(connection=connection))
    birth, id_number, id_index = _raw(
        "parties_customer", customer.pk, "birth_date", "id_document_number", "id_document_index"
    )
    assert crypto.is_token(birth) and crypto.is_token(id_number)
    assert id_index == Customer._meta.get_field("id_document_index").index_of(ID_NUMBER)
    number, number_index = _raw("parties_phone", phone.pk, "number", "number_index")
    assert crypto.is_token(number) and number_index == Phone._meta.get_field("number_index").index_of(PHONE)
    assert SpecialDate.objects.get(customer=customer, kind="birthday").year is None
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.birth_date, fresh.id_document_number) == (dt.date(1990, 3, 12), ID_NUMBER)
    # running it again changes nothing (tokens are left as they are)
    migration.encrypt_existing(apps, SimpleNamespace(connection=connection))
    assert _raw("parties_customer", customer.pk, "id_document_number") == (id_number,)


def test_the_customer_page_shows_the_birthday_year_from_the_encrypted_birth_date(
    user: Any, keyring_file: Any, client: Any
) -> None:
    customer = _li(user)
    cleared = with_clearance(make_user("cleared", "administrator"))
    page = _api(cleared).get(f"/api/v1/customers/{customer.customer_number}/page/").json()
    (birthday,) = [d for d in page["special_dates"] if d["kind"] == "birthday"]
    assert birthday["year"] == 1990 and (birthday["month"], birthday["day"]) == (3, 12)
    next_on = dt.date.fromisoformat(birthday["next_occurrence"])
    assert birthday["years_at_next"] == next_on.year - 1990
    client.force_login(cleared)
    assert "1990-03-12" in client.get(f"/customers/{customer.customer_number}/").content.decode()
    # without clearance the birthday stays and its year (the age) is masked, on the page and in the API
    page = _api(user).get(f"/api/v1/customers/{customer.customer_number}/page/").json()
    (birthday,) = [d for d in page["special_dates"] if d["kind"] == "birthday"]
    assert birthday["year"] is None and birthday["years_at_next"] is None
    client.force_login(user)
    html = client.get(f"/customers/{customer.customer_number}/").content.decode()
    assert "****-03-12" in html and "1990" not in html


def _raw_custom(customer: Customer) -> dict[str, Any]:
    (raw,) = _raw("parties_customer", customer.pk, "custom_data")
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


@pytest.fixture
def passport(db: Any) -> None:
    from kith.parties.services import catalogues

    catalogues.custom_field_create(
        actor=None, data={"key": "passport", "label": "Passport", "field_type": "text", "is_sensitive": True}
    )
    catalogues.custom_field_create(actor=None, data={"key": "hobby", "label": "Hobby", "field_type": "text"})


def test_custom_fields_marked_sensitive_are_encrypted(
    user: Any, keyring_file: Any, passport: None, client: Any
) -> None:
    customer = person(user, custom={"passport": "E12345678", "hobby": "chess"})
    stored = _raw_custom(customer)
    assert crypto.is_token(stored["passport"]) and "E12345678" not in json.dumps(stored)
    assert stored["hobby"] == "chess"  # not sensitive: in clear, and filterable
    assert Customer.objects.get(pk=customer.pk).custom_data == {"passport": "E12345678", "hobby": "chess"}
    created = AuditEntry.objects.get(
        object_type="parties.customer", object_id=str(customer.pk), action="create"
    )
    assert "E12345678" not in json.dumps(created.changes)
    admin = make_user("root2", "administrator")
    client.force_login(admin)
    assert "E12345678" in client.get(f"/customers/{customer.customer_number}/history/").content.decode()
    # an encrypted value cannot be compared by a query: filtering by it is refused, field by field
    response = _api(admin).get("/api/v1/customers/", {"cf_passport": "E12345678"})
    assert response.status_code == 400 and "cf_passport" in response.json()["errors"]
    assert _api(admin).get("/api/v1/customers/", {"cf_hobby": "chess"}).json()["results"]


def test_marking_a_custom_field_sensitive_encrypts_its_stored_values(
    user: Any, keyring_file: Any, passport: None, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from kith.parties.models import CustomFieldDefinition
    from kith.parties.services import catalogues
    from kith.parties.tasks import reseal_custom_field

    customer = person(user, custom={"passport": "E12345678", "hobby": "chess"})
    hobby = CustomFieldDefinition.objects.get(key="hobby")
    with django_capture_on_commit_callbacks(execute=True):
        catalogues.custom_field_update(actor=None, definition=hobby, data={"is_sensitive": True})
    assert DBTaskResult.objects.filter(task_path="kith.parties.tasks.reseal_custom_field").count() == 1
    assert _raw_custom(customer)["hobby"] == "chess"  # until the job runs (reads work either way)
    assert reseal_custom_field.call("hobby") == 1
    stored = _raw_custom(customer)
    assert crypto.is_token(stored["hobby"]) and crypto.is_token(stored["passport"])
    assert Customer.objects.get(pk=customer.pk).custom_data == {"passport": "E12345678", "hobby": "chess"}
    assert reseal_custom_field.call("hobby") == 0  # nothing left to do
    with django_capture_on_commit_callbacks(execute=True):
        catalogues.custom_field_update(actor=None, definition=hobby, data={"is_sensitive": False})
    assert reseal_custom_field.call("hobby") == 1
    stored = _raw_custom(customer)
    assert stored["hobby"] == "chess" and crypto.is_token(stored["passport"])  # the other one stays sealed


def test_rotation_reencrypts_sealed_custom_values(user: Any, keyring_file: Any, passport: None) -> None:
    customer = person(user, custom={"passport": "E12345678"})
    call_command("keys", "rotate", stdout=io.StringIO(), stderr=io.StringIO())
    token = _raw_custom(customer)["passport"]
    assert crypto.token_key_id(token) == crypto.keyring().primary_id
    assert Customer.objects.get(pk=customer.pk).custom_data["passport"] == "E12345678"


def test_the_access_log_keeps_no_searched_phone_or_id_number(user: Any, keyring_file: Any) -> None:
    from kith.audit.models import AccessLog

    customer = _li(user)
    cleared = with_clearance(make_user("cleared", "administrator"))
    for who, q in ((user, "+86 138 0013 8000"), (cleared, ID_NUMBER), (user, customer.customer_number)):
        _found(who, q)
    logged = list(AccessLog.objects.order_by("id").values_list("query", flat=True))
    assert logged[0].endswith("…00]") and "138" not in logged[0]
    assert logged[1].endswith("…34]") and "1101" not in logged[1]
    assert logged[2] == customer.customer_number  # a customer number is not secret


def test_id_numbers_are_bounded_and_compared_in_any_width(user: Any, keyring_file: Any) -> None:
    cleared = with_clearance(make_user("cleared", "administrator"))
    too_long = _api(cleared).post(
        "/api/v1/customers/",
        {"kind": "person", "family_name": "Long", "id_document_number": "9" * 61},
        format="json",
    )
    assert too_long.status_code == 400 and "id_document_number" in too_long.json()["errors"]
    customer = _li(user)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ID_NUMBER)  # １１０１０１…
    assert _found(cleared, full_width) == [customer.customer_number]


def test_backups_hash_the_stored_tokens_without_decrypting(user: Any, keyring_file: Any) -> None:
    from kith.backups.services.checksums import table_sum

    _li(user)
    before = table_sum(Customer, using="default")
    crypto.write_keyring_file(keyring_file, [crypto.new_key()], crypto.new_key())  # keys gone
    crypto.forget_keyring()
    assert table_sum(Customer, using="default") == before


def test_a_sensitive_flag_set_anywhere_starts_the_job_and_the_demo_seals_too(
    user: Any, keyring_file: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from kith.parties.demo import load_demo
    from kith.parties.models import CustomFieldDefinition
    from kith.parties.services import catalogues

    catalogues.custom_field_create(
        actor=None,
        data={"key": "loyalty_points", "label": "Points", "field_type": "integer", "is_sensitive": True},
    )
    load_demo(customers=40, seed=3, users=2)
    holders = [c for c in Customer.objects.all() if "loyalty_points" in c.custom_data]
    assert holders and all(isinstance(c.custom_data["loyalty_points"], int) for c in holders)
    assert all(crypto.is_token(_raw_custom(c)["loyalty_points"]) for c in holders)
    # a flag changed by a plain save (Django's admin does that) queues the job as the services do
    definition = CustomFieldDefinition.objects.get(key="loyalty_points")
    definition.is_sensitive = False
    with django_capture_on_commit_callbacks(execute=True):
        definition.save()
    assert DBTaskResult.objects.filter(task_path="kith.parties.tasks.reseal_custom_field").exists()


def test_reencrypt_also_seals_values_left_in_clear(user: Any, keyring_file: Any, passport: None) -> None:
    customer = person(user, id_document_number=ID_NUMBER, custom={"passport": "E12345678"})
    with connection.cursor() as cursor:  # as a write racing a change, or a database restored from before
        cursor.execute(
            "UPDATE parties_customer SET id_document_number = %s, custom_data = %s WHERE id = %s",
            [ID_NUMBER, json.dumps({"passport": "E12345678"}), customer.pk],
        )
    counts = keys.reencrypt()
    assert counts["parties.customer.id_document_number"] == 1
    assert counts["parties.customer.custom_data.passport"] == 1
    (stored,) = _raw("parties_customer", customer.pk, "id_document_number")
    assert crypto.is_token(stored) and crypto.is_token(_raw_custom(customer)["passport"])
    fresh = Customer.objects.get(pk=customer.pk)
    assert fresh.id_document_number == ID_NUMBER and fresh.custom_data == {"passport": "E12345678"}
