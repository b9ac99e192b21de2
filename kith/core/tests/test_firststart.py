"""`kith firststart`: an admin with a printed one-time password and demo data, once."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from kith.parties.models import Customer

pytestmark = pytest.mark.django_db


def test_first_start_creates_admin_and_demo_data_once():
    out = io.StringIO()
    call_command("firststart", customers=30, seed=3, stdout=out)
    text = out.getvalue()
    password = re.search(r"password:\s+(\S+)", text)
    assert password, text
    admin = authenticate(username="admin", password=password.group(1))
    assert admin is not None and admin.is_superuser
    copies = Customer.objects.count() - 30  # a few near-copies, so the duplicates report shows something
    assert 1 <= copies <= 6
    from kith.parties.models import DuplicateCandidate

    pairs = list(DuplicateCandidate.objects.filter(status="open").values_list("first_id", "second_id"))
    newest = set(Customer.objects.order_by("-pk").values_list("pk", flat=True)[:copies])
    assert len(pairs) >= 3 and all(newest & {a, b} for a, b in pairs)  # found, and only the copies

    again = io.StringIO()
    call_command("firststart", customers=30, seed=3, stdout=again)
    assert "password:" not in again.getvalue()
    assert Customer.objects.count() == 30 + copies
    assert get_user_model().objects.filter(username="admin").count() == 1
