"""Small builders for the lead tests; they go through the services like every other entry point."""

from __future__ import annotations

from typing import Any

from kith.sales.models import Lead, LeadAssignmentRule, WebForm
from kith.sales.services import assignment, leads, web_forms


def lead(actor: Any = None, **data: Any) -> Lead:
    data.setdefault("given_name", "Anna")
    data.setdefault("family_name", "Berg")
    data.setdefault("company", "Berg Logistics")
    return leads.lead_create(actor=actor, data=data)


def rule(*users: Any, actor: Any = None, **data: Any) -> LeadAssignmentRule:
    data.setdefault("name", "Everyone")
    data["users"] = list(users)
    return assignment.rule_create(actor=actor, data=data)


def web_form(actor: Any = None, **data: Any) -> WebForm:
    data.setdefault("name", "Contact us")
    return web_forms.web_form_create(actor=actor, data=data)
