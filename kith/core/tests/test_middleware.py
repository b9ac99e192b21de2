"""htmx requests after the session ended send the browser to the login page, not into a fragment."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_htmx_request_without_session_gets_a_full_page_redirect(client):
    response = client.get("/customers/?q=acme", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert "next=" in response["HX-Redirect"]


def test_plain_requests_are_redirected_as_usual(client):
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signed_in_htmx_requests_are_untouched(signed_in):
    response = signed_in.get("/customers/?q=acme", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Redirect" not in response
