"""The anniversary digest, sent through a real SMTP server on loopback, and its daily schedule."""

from __future__ import annotations

import datetime as dt
import email
import time
from email.message import Message

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kith.core.schedule import run_due
from kith.parties import services
from kith.parties.tasks import anniversary_digest
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)


def _parts(message: Message) -> tuple[str, str]:
    text = html = ""
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        content = payload.decode(part.get_content_charset() or "utf-8")
        if part.get_content_type() == "text/plain":
            text = content
        elif part.get_content_type() == "text/html":
            html = content
    return text, html


def _subject(message: Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def test_each_manager_gets_their_own_upcoming_anniversaries(smtp, django_user_model):
    # anna sees her customers' birth years (sensitive): her digest counts the years
    anna = with_clearance(make_user("anna", "sales_rep", email="anna@example.com"))
    ben = make_user("ben", "sales_rep", email="ben@example.com")
    quiet = make_user("quiet", "sales_rep", email="quiet@example.com")
    gone = django_user_model.objects.create_user(username="gone", email="gone@example.com")
    nomail = django_user_model.objects.create_user(username="nomail", email="")

    li = person(anna, family_name="李", given_name="小龙", birth_date="1980-03-12")
    acme = company(anna, legal_name="Acme Trading Ltd", founded_date="2001-03-16")
    services.special_date_add(actor=anna, customer=li, kind="wedding", month=3, day=10, year=2010)
    person(anna, given_name="Later", family_name="Person", birth_date="1980-03-17")  # day 8: outside
    archived = person(anna, given_name="Archived", family_name="Person", birth_date="1980-03-11")
    services.customer_set_status(actor=anna, customer=archived, status="archived", expected_version=None)
    person(ben, given_name="Émile", family_name="Zola", birth_date="1990-03-15")
    person(quiet, given_name="Far", family_name="Away", birth_date="1990-09-01")
    person(None, given_name="Gone", family_name="Owner", birth_date="1990-03-11", owner=gone.pk)
    django_user_model.objects.filter(pk=gone.pk).update(is_active=False)  # left since
    person(None, given_name="No", family_name="Mail", birth_date="1990-03-11", owner=nomail.pk)

    sent = anniversary_digest.call(DAY.isoformat())

    assert sorted(sent) == ["anna@example.com", "ben@example.com"]
    by_recipient = {tuple(rcpts): message for rcpts, message in smtp.messages}
    assert set(by_recipient) == {("anna@example.com",), ("ben@example.com",)}

    anna_mail = by_recipient[("anna@example.com",)]
    assert _subject(anna_mail) == "Kith: 3 customer anniversaries in the next 7 days"
    text, html = _parts(anna_mail)
    assert "李小龙" in text and "Acme Trading Ltd" in text and li.customer_number in text
    assert "Wedding anniversary (16 years)" in text
    assert "Birthday (46 years)" in text
    assert "Founding day (25 years)" in text
    assert "Later Person" not in text and "Archived" not in text and "Zola" not in text
    # Sorted by date: the wedding (10th), the birthday (12th), then the founding day (16th).
    assert text.index("Wedding") < text.index("Birthday") < text.index("Founding")
    assert "<td>李小龙</td>" in html and "<td>Acme Trading Ltd</td>" in html

    ben_mail = by_recipient[("ben@example.com",)]
    assert _subject(ben_mail) == "Kith: 1 customer anniversary in the next 7 days"
    assert "Émile Zola" in _parts(ben_mail)[0]
    assert acme.display_name not in _parts(ben_mail)[0]


def test_nothing_is_sent_when_no_one_has_anniversaries(smtp, django_user_model):
    manager = make_user("m", "sales_rep", email="m@example.com")
    person(manager, birth_date="1990-08-01")
    assert anniversary_digest.call(DAY.isoformat()) == []
    time.sleep(0.05)
    assert smtp.messages == []


def _digests() -> int:
    return DBTaskResult.objects.filter(task_path__endswith=".anniversary_digest").count()


def test_run_due_enqueues_the_digest_once_a_day(django_capture_on_commit_callbacks, settings):
    settings.TIME_ZONE = "UTC"
    early = timezone.make_aware(dt.datetime(2026, 3, 10, 6, 59), dt.UTC)
    due = timezone.make_aware(dt.datetime(2026, 3, 10, 7, 5), dt.UTC)

    with django_capture_on_commit_callbacks(execute=True):
        assert "parties.anniversary_digest" not in run_due(early)
    assert _digests() == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert "parties.anniversary_digest" in run_due(due)
    with django_capture_on_commit_callbacks(execute=True):
        assert "parties.anniversary_digest" not in run_due(due + dt.timedelta(hours=3))
    assert _digests() == 1
    queued = DBTaskResult.objects.get(task_path__endswith=".anniversary_digest")
    assert queued.args_kwargs == {"args": ["2026-03-10"], "kwargs": {}}

    with django_capture_on_commit_callbacks(execute=True):
        assert "parties.anniversary_digest" in run_due(due + dt.timedelta(days=1))
    assert _digests() == 2
