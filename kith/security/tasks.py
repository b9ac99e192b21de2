"""Background entry points of access control (thin: the work is in ``access_requests``)."""

from __future__ import annotations

from django_tasks import task

from kith.security.access_requests import send_notice


@task()
def access_request_notice(request_id: int) -> list[str]:
    """Email the approvers of a new access request, or its requester once it is decided."""
    return send_notice(request_id)
