"""The anniversary digest: each account manager gets their customers' anniversaries of the coming week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kith.parties.selectors.anniversaries import Anniversary, anniversaries_upcoming
from kith.parties.sensitive import redact_anniversaries

DIGEST_DAYS = 7
MAX_LINES = 200  # a manager of thousands of customers gets the first ones and a count of the rest


def digest_recipients() -> list[Any]:
    """Active users with an email address who are account manager of at least one customer."""
    user_model = get_user_model()
    return list(
        user_model.objects.filter(is_active=True, owned_customers__isnull=False)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _describe(item: Anniversary) -> str:
    what = item.label or item.kind_label
    if item.years:
        return ngettext("%(what)s (%(years)d year)", "%(what)s (%(years)d years)", item.years) % {
            "what": what,
            "years": item.years,
        }
    return str(what)


def build_digest(manager: Any, items: list[Anniversary], *, start: dt.date) -> EmailMultiAlternatives:
    name = getattr(manager, "display_name", "") or manager.get_username()
    subject = ngettext(
        "Kith: %(count)d customer anniversary in the next %(days)d days",
        "Kith: %(count)d customer anniversaries in the next %(days)d days",
        len(items),
    ) % {"count": len(items), "days": DIGEST_DAYS}
    intro = _("Hello %(name)s, these customers of yours have an anniversary from %(start)s:") % {
        "name": name,
        "start": date_format(start),
    }
    shown, rest = items[:MAX_LINES], len(items) - MAX_LINES
    more = _("… and %(count)d more.") % {"count": rest} if rest > 0 else ""
    lines = [
        f"- {date_format(a.date)}: {a.display_name} ({a.customer_number}), {_describe(a)}" for a in shown
    ]
    text = "\n".join([intro, "", *lines, *([more] if more else []), "", _("— Kith")]) + "\n"
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((date_format(a.date), a.display_name, a.customer_number, _describe(a)) for a in shown),
    )
    html = format_html(
        "<html><body><p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
        "<tbody>{}</tbody></table><p>{}</p></body></html>",
        intro,
        _("Date"),
        _("Customer"),
        _("Customer number"),
        _("Anniversary"),
        rows,
        more,
    )
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[manager.email]
    )
    message.attach_alternative(str(html), "text/html")
    return message


def send_anniversary_digest(*, start: dt.date) -> list[str]:
    """Email every account manager with anniversaries from ``start`` on; return the addresses written to.

    Managers with nothing coming up get no email.
    """
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for manager in digest_recipients():
            items = anniversaries_upcoming(user=manager, start=start, days=DIGEST_DAYS, owner_id=manager.pk)
            # as the manager may see them: a masked birth date gives no age (kith.security.masking)
            items = redact_anniversaries(manager, items)
            if items:
                messages.append(build_digest(manager, items, start=start))
    if messages:
        with get_connection() as connection:
            connection.send_messages(messages)
    return [m.to[0] for m in messages]
