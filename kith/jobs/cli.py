"""The command line's side of an export job, shared by every ``kith export*`` command: the user it runs as,
``--filter KEY=VALUE`` options, the job started and run in the foreground with a progress bar, and its file
copied to where the user asked."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from kith.core import console
from kith.jobs import services as jobs
from kith.jobs.models import Job, JobStatus


def active_user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"no active user {username!r}")
    return user


def filters_of(items: list[str]) -> dict[str, list[str]]:
    """``["status=open", "tag=a", "tag=b"]`` as the list page's parameters."""
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--filter {item!r}: expected KEY=VALUE")
        filters.setdefault(key.strip(), []).append(value)
    return filters


def run_export(start: Callable[[], Job], *, label: str, output: str) -> Job:
    """Start the export (``start`` raises the domain's field errors or PermissionDenied), run it here with a
    progress bar, and copy its file to ``output``; any failure is a CommandError."""
    try:
        job = start()
    except ValidationError as exc:
        raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
    except PermissionDenied as exc:
        raise CommandError(str(exc) or "permission denied") from exc
    started = time.monotonic()
    jobs.run(job.pk, on_change=lambda done, total: console.bar(label, done, total, started=started))
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise CommandError(job.message or job.status)
    path = jobs.file_path(job)
    if path is None:
        raise CommandError("the export wrote no file")
    shutil.copyfile(path, output)
    return job
