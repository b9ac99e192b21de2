"""The backups page: only holders of ("backup", "administer"); it lists backups and queues a backup job."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from kith.backups.services import backups

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("backup_folder")]


@pytest.fixture
def plain_user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(username="plain", password="a-long-Passw0rd!")


@pytest.mark.parametrize("who", ["plain_user", "user"])
def test_page_is_refused_without_the_permission(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("backups:list")).status_code == 403
    assert client.get(reverse("backups:job")).status_code == 403
    assert client.post(reverse("backups:start")).status_code == 403
    assert not DBTaskResult.objects.exists()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("backups:list"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_admin_sees_backups_and_starts_one_as_a_job(client, admin_user, backup_folder):
    backup_folder.mkdir(parents=True)
    made = backups.create_backup()
    backups.verify_backup(made.path)
    client.force_login(admin_user)
    page = client.get(reverse("backups:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert made.path.name in html and "restores, identical" in html

    response = client.post(reverse("backups:start"))
    assert response.status_code == 302
    job = DBTaskResult.objects.get()
    assert job.task_path == "kith.backups.tasks.backup_now"
    html = client.get(reverse("backups:list")).content.decode()
    assert "queued" in html and 'hx-trigger="every 3s"' in html

    client.post(reverse("backups:start"), follow=True)
    assert DBTaskResult.objects.count() == 1  # refused while the first is still queued
    html = client.get(reverse("backups:list")).content.decode()
    assert "already queued or running" in html or DBTaskResult.objects.count() == 1

    # the worker runs it: the status panel then says so and asks the page to reload
    from kith.backups.tasks import backup_now

    backup_now.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
    DBTaskResult.objects.filter(pk=job.pk).update(status="SUCCESSFUL")
    status = client.get(reverse("backups:job"), HTTP_HX_REQUEST="true")
    assert status.status_code == 200 and status["HX-Refresh"] == "true"
    assert "done" in status.content.decode()
