"""The access-request emails link to the requests page with an absolute address (KITH_BASE_URL)."""

from __future__ import annotations

import pytest

from kith.parties.tests.factories import person
from kith.security import access_requests
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db


def test_the_approvers_email_links_to_the_requests_page_on_the_base_url(smtp, settings):
    settings.KITH_BASE_URL = "https://crm.example.com"
    lead = make_user("lead", "sales_manager", email="lead@example.com")
    rep = make_user("rep", "sales_rep", manager=lead)
    customer = person(rep, given_name="Li", family_name="Wei", id_document_number="110101199003121234")
    row = access_requests.request_access(
        actor=rep, object_type="customer", record=customer, purpose="Verifying the identity on a call"
    )
    assert access_requests.send_notice(row.pk) == ["lead@example.com"]
    ((_recipients, message),) = smtp.messages
    body = message.get_payload(decode=True).decode()
    assert "at https://crm.example.com/access-requests/\r\n" in body
