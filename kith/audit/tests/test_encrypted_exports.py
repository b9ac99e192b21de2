"""The audit trail keeps encrypted values as tokens: ``kith audit export`` (the operator's CSV for auditors)
shows them opened, a value no key opens as the UNREADABLE marker, and the admin's entry page shows the
changes opened and masked for its viewer, never the tokens."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from kith.audit.exports import opened_entries
from kith.audit.models import AuditEntry
from kith.core import crypto
from kith.parties.models import Customer
from kith.parties.tests.factories import person
from kith.security import masking

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
BIRTH = "1990-03-12"


@pytest.fixture
def keyring_file(tmp_path: Any, settings: Any) -> Any:
    """A keyring of this test's own (replacing it must not touch the one other test processes read)."""
    path = tmp_path / "keys.json"
    settings.KITH_KEYRING_FILE = str(path)
    return path


def _li(actor: Any = None) -> Customer:
    return person(actor, given_name="Li", family_name="Wei", birth_date=BIRTH, phones=[{"number": PHONE}])


def _export(*args: str) -> tuple[str, list[dict[str, str]]]:
    out = io.StringIO()
    call_command("audit", "export", "--output", "-", *args, stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    return text, list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _stored_tokens(customer: Customer) -> list[AuditEntry]:
    """The customer's entries that hold tokens (so the tests below test something)."""
    found = [
        e
        for e in AuditEntry.objects.filter(customer_id=customer.pk)
        if crypto.PREFIX in json.dumps(e.changes)
    ]
    assert {e.object_type for e in found} >= {"parties.customer", "parties.phone"}
    return found


def test_the_cli_export_shows_encrypted_values_opened(keyring_file: Any) -> None:
    customer = _li()
    _stored_tokens(customer)
    text, rows = _export()
    assert crypto.PREFIX not in text
    changes = {
        (row["object_type"], row["object_id"]): json.loads(row["changes"])
        for row in rows
        if row["customer_id"] == str(customer.pk)
    }
    assert changes[("parties.customer", str(customer.pk))]["birth_date"] == [None, BIRTH]
    phone = customer.phones.get()
    assert changes[("parties.phone", str(phone.pk))]["number"] == [None, PHONE]
    # the stored entries are untouched: still tokens, and the chain still verifies
    assert crypto.PREFIX in json.dumps(AuditEntry.objects.get(object_type="parties.phone").changes)
    call_command("audit", "verify", stdout=io.StringIO())


def test_the_cli_export_to_a_file_and_with_filters(keyring_file: Any, tmp_path: Any) -> None:
    customer = _li()
    target = tmp_path / "audit.csv"
    call_command("audit", "export", "--output", str(target), "--object-type", "parties.phone")
    text = target.read_text(encoding="utf-8")
    assert PHONE in text and crypto.PREFIX not in text
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert {row["object_type"] for row in rows} == {"parties.phone"}
    assert [row["object_id"] for row in rows] == [str(customer.phones.get().pk)]


def test_a_value_no_key_opens_exports_as_unreadable(keyring_file: Any) -> None:
    customer = _li()
    stored = _stored_tokens(customer)
    # the keyring is replaced by one without the key the entries were sealed with
    crypto.write_keyring_file(keyring_file, [crypto.new_key()], crypto.new_key())
    crypto.forget_keyring()
    text, rows = _export()
    assert crypto.PREFIX not in text and PHONE not in text and BIRTH not in text
    by_key = {(row["object_type"], row["object_id"]): json.loads(row["changes"]) for row in rows}
    assert by_key[("parties.customer", str(customer.pk))]["birth_date"] == [None, crypto.UNREADABLE]
    phone = next(e for e in stored if e.object_type == "parties.phone")
    assert by_key[("parties.phone", phone.object_id)]["number"] == [None, crypto.UNREADABLE]
    # plain values of the same entries are still there
    assert by_key[("parties.customer", str(customer.pk))]["family_name"] == [None, "Wei"]


def test_opened_entries_copies_and_leaves_plain_entries_alone(keyring_file: Any) -> None:
    customer = _li()
    stored = _stored_tokens(customer)
    plain = AuditEntry.objects.exclude(seq__in=[e.seq for e in stored]).first()
    assert plain is not None  # the derived birthday's entry, say: nothing encrypted in it
    originals = [*stored, plain]
    before = [json.dumps(e.changes, sort_keys=True) for e in originals]
    opened = list(opened_entries(iter(originals)))
    assert [json.dumps(e.changes, sort_keys=True) for e in originals] == before  # not changed in place
    assert all(crypto.PREFIX not in json.dumps(e.changes) for e in opened)
    assert opened[-1] is plain


def test_the_admin_entry_page_shows_the_changes_opened(
    keyring_file: Any, client: Any, admin_user: Any
) -> None:
    customer = _li(admin_user)
    phone_entry = AuditEntry.objects.get(object_type="parties.phone", customer_id=customer.pk)
    customer_entry = AuditEntry.objects.get(object_type="parties.customer", object_id=str(customer.pk))
    client.force_login(admin_user)
    page = client.get(reverse("admin:audit_auditentry_change", args=[phone_entry.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert PHONE in html and crypto.PREFIX not in html
    assert '<pre class="kith-audit-changes">' in html
    html = client.get(reverse("admin:audit_auditentry_change", args=[customer_entry.pk])).content.decode()
    assert BIRTH in html and crypto.PREFIX not in html
    # still read-only: no form to post, and a post changes nothing
    assert 'name="_save"' not in html
    assert 'name="changes"' not in html


def test_the_admin_entry_page_escapes_the_values(keyring_file: Any, client: Any, admin_user: Any) -> None:
    customer = person(admin_user, family_name="<script>alert(1)</script>")
    entry = AuditEntry.objects.get(object_type="parties.customer", object_id=str(customer.pk))
    client.force_login(admin_user)
    html = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_admin_entry_page_masks_for_a_viewer_without_clearance(
    keyring_file: Any, client: Any, user: Any
) -> None:
    from django.contrib.auth.models import Permission

    customer = _li(user)
    entry = AuditEntry.objects.get(object_type="parties.phone", customer_id=customer.pk)
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(user)
    page = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert crypto.PREFIX not in html and PHONE not in html and "13800138000" not in html
    assert masking.mask(masking.PHONE, PHONE) in html  # opened, then masked for this viewer
