"""Kinds of background job: each domain registers its runner once (``AppConfig.ready``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from kith.jobs.models import Job
    from kith.jobs.services import Progress

Runner = Callable[["Job", "Progress"], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    code: str
    label: Promise | str
    run: Runner
    # a template the job page includes under the progress (the result in the domain's words, its actions)
    result_template: str = ""
    # (object type, action) the downloader must still hold for the job's file (an export: customer, export)
    file_permission: tuple[str, str] | None = None
    # the webhook event sent when a job of this kind ends ("export.finished"), or none
    finished_event: str = ""


_kinds: dict[str, JobKind] = {}


def register(
    code: str,
    label: Promise | str,
    run: Runner,
    *,
    result_template: str = "",
    file_permission: tuple[str, str] | None = None,
    finished_event: str = "",
) -> None:
    """``run(job, progress)`` does the work and returns the result (JSON); it reports rows through
    ``progress`` and writes its file (if any) to ``progress.work_file(suffix)``. It must be safe to run again
    from the start: a job whose worker died is run again, and only a finished run's file is kept."""
    _kinds[code] = JobKind(code, label, run, result_template, file_permission, finished_event)


def kind(code: str) -> JobKind:
    try:
        return _kinds[code]
    except KeyError:
        raise LookupError(f"unknown job kind {code!r}") from None


def finished_event(code: str) -> str:
    found = _kinds.get(code)
    return found.finished_event if found else ""


def result_template(code: str) -> str:
    found = _kinds.get(code)
    return found.result_template if found else ""


def label_of(code: str) -> Promise | str:
    found = _kinds.get(code)
    return found.label if found else code
