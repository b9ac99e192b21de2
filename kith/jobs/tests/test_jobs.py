"""Background jobs: progress, result file, failure, cancel, a dead worker's job run again, the pages and API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from kith.jobs import registry, services
from kith.jobs.models import Job, JobStatus
from kith.jobs.tasks import run_job
from kith.security.testing import make_user

pytestmark = pytest.mark.django_db

RUNS: list[int] = []


def _count(job: Job, progress: services.Progress) -> dict[str, Any]:
    """A job kind for the tests: writes ``rows`` lines, reporting each; ``fail_at`` raises there."""
    RUNS.append(job.pk)
    rows = int(job.params["rows"])
    progress.set_total(rows)
    path = progress.work_file(".txt")
    with path.open("w") as handle:
        for n in range(rows):
            if job.params.get("fail_at") == n:
                raise RuntimeError("disk on fire")
            if job.params.get("cancel_at") == n:
                Job.objects.filter(pk=job.pk).update(cancel_requested=True)
                progress.flush()
            handle.write(f"line {n}\n")
            progress.advance()
    return {"rows": rows, "download_name": "count.txt"}


@pytest.fixture(autouse=True)
def counting_kind(settings, tmp_path):
    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    registry.register("test.count", "Counting", _count)
    RUNS.clear()
    yield
    registry._kinds.pop("test.count", None)


@pytest.fixture
def owner(db):
    return make_user("owner", "sales_manager")


def _start(owner: Any, **params: Any) -> Job:
    return services.start("test.count", actor=owner, params={"rows": 5, **params}, title="Count")


def test_a_job_is_queued_on_commit_and_runs_to_a_file(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(owner)
    queued = DBTaskResult.objects.get(task_path="kith.jobs.tasks.run_job")
    assert queued.args_kwargs["args"] == [job.pk]
    assert run_job.call(job.pk) == JobStatus.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.percent, job.attempts) == (JobStatus.SUCCEEDED, 5, 5, 100, 1)
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at
    path = services.file_path(job)
    assert path is not None and path.read_text() == "".join(f"line {n}\n" for n in range(5))
    assert not list(path.parent.glob("*.part"))
    assert path.stat().st_mode & 0o077 == 0  # personal data: only the server's user reads it
    # a second delivery of the same task does not run it again
    assert run_job.call(job.pk) == "skipped" and [job.pk] == RUNS


def test_a_failing_job_says_so_and_leaves_no_file(owner):
    job = _start(owner, fail_at=3)
    services.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.file_name == ""
    assert "RuntimeError" in job.message and "disk on fire" not in job.message  # no internals for users
    assert not list(services.jobs_dir().iterdir())


def test_a_dead_workers_job_is_queued_again_and_finishes_whole(owner, django_capture_on_commit_callbacks):
    job = _start(owner, rows=4)
    # a worker took it, wrote half a file and was killed (no heartbeat since)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, done=2, heartbeat_at=timezone.now() - dt.timedelta(minutes=5)
    )
    leftover = services.jobs_dir() / f"job-{job.pk}-try1.txt.part"
    leftover.write_text("line 0\nline 1\n")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recover_stale() == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert not leftover.exists()
    assert DBTaskResult.objects.filter(task_path="kith.jobs.tasks.run_job").count() == 1
    services.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done) == (JobStatus.SUCCEEDED, 2, 4)
    assert services.file_path(job).read_text().count("line") == 4  # type: ignore[union-attr]


def test_a_live_job_is_not_taken_twice_and_a_job_that_keeps_dying_is_given_up(owner):
    job = _start(owner)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert services.recover_stale() == []
    assert services.run(job.pk) is None and RUNS == []  # another worker is on it
    Job.objects.filter(pk=job.pk).update(
        attempts=services.MAX_ATTEMPTS, heartbeat_at=timezone.now() - dt.timedelta(hours=1)
    )
    services.recover_stale()
    services.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "given up" in job.message and RUNS == []


def test_cancel_a_queued_job_and_a_running_one(owner):
    queued = _start(owner)
    services.cancel(queued, actor=owner)
    assert queued.status == JobStatus.CANCELLED
    assert services.run(queued.pk) is None
    running = _start(owner, rows=50, cancel_at=10)
    services.run(running.pk)
    running.refresh_from_db()
    assert running.status == JobStatus.CANCELLED and running.file_name == ""
    assert not list(services.jobs_dir().iterdir())
    other = make_user("other", "sales_manager")
    job = _start(owner)
    with pytest.raises(Exception, match="may not cancel"):
        services.cancel(job, actor=other)


def test_old_job_files_are_deleted(owner, settings):
    settings.KITH_JOB_FILE_DAYS = 7
    job = _start(owner)
    services.run(job.pk)
    job.refresh_from_db()
    path = services.file_path(job)
    assert path is not None and path.exists()
    assert services.purge_files(now=timezone.now() + dt.timedelta(days=6)) == 0
    assert services.purge_files(now=timezone.now() + dt.timedelta(days=8)) == 1
    job.refresh_from_db()
    assert not path.exists() and job.file_name == "" and job.result["file_purged"] is True


def test_job_pages_show_progress_and_the_file_to_its_owner_only(client, owner):
    job = _start(owner)
    client.force_login(owner)
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "queued" in page and 'hx-trigger="every 1s"' in page
    services.run(job.pk)
    fragment = client.get(reverse("jobs:progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in fragment  # finished: the polling stops
    assert "5 of 5 rows (100%)" in fragment and reverse("jobs:file", args=[job.pk]) in fragment
    download = client.get(reverse("jobs:file", args=[job.pk]))
    assert download.status_code == 200 and download.getvalue().count(b"line") == 5
    assert 'filename="count.txt"' in download["Content-Disposition"]
    assert "Count" in client.get(reverse("jobs:list")).content.decode()
    client.force_login(make_user("peer", "sales_manager"))
    for name in ("detail", "progress", "file"):
        assert client.get(reverse(f"jobs:{name}", args=[job.pk])).status_code == 404
    assert "Count" not in client.get(reverse("jobs:list")).content.decode()


def test_jobs_api(owner):
    job = _start(owner, rows=3)
    api = APIClient()
    api.force_authenticate(owner)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "queued" and body["file_url"] is None and body["percent"] is None
    services.run(job.pk)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (body["status"], body["done"], body["total"], body["percent"]) == ("succeeded", 3, 3, 100)
    file = api.get(body["file_url"])
    assert file.status_code == 200 and file.getvalue() == b"line 0\nline 1\nline 2\n"
    assert [j["id"] for j in api.get("/api/v1/jobs/").json()] == [job.pk]
    assert api.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 400  # finished already
    peer = APIClient()
    peer.force_authenticate(make_user("peer", "sales_manager"))
    assert peer.get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert peer.get(f"/api/v1/jobs/{job.pk}/file/").status_code == 404
    assert peer.get("/api/v1/jobs/").json() == []
