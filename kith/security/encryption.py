"""The encryption keys as administrators see them (Settings → Encryption keys, ``/api/v1/encryption/``):
the keyring, the last count of the values under each key, and counting, re-encrypting and rotating as
background jobs over ``kith.core.keys`` (the ``kith keys`` command's own functions).

Looking needs ("security", "view"), starting a job ("security", "administer"). Counting scans every table
with encrypted columns (about 35 ms at 20,000 customers on SQLite, seconds at a million), so it is a job and
the page shows its last result; a re-encryption or rotation counts again when it ends. Starting a
re-encryption or a rotation is audited (``key_rotation`` with ``requested``), and so is its end (the
``key_rotation`` entry ``kith.core.keys.reencrypt`` writes, attributed to whoever started the job).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kith.audit.choices import Action, Source
from kith.audit.context import audit_context
from kith.audit.services import record_event
from kith.core import keys
from kith.core.errors import DomainError
from kith.jobs import selectors as job_selectors
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.security.models import Generation
from kith.security.rules import ADMINISTER, VIEW, require_permission

COUNT_KIND = "security.keys_count"
REENCRYPT_KIND = "security.keys_reencrypt"
ROTATE_KIND = "security.keys_rotate"
KINDS = (COUNT_KIND, REENCRYPT_KIND, ROTATE_KIND)
CHANGING = (REENCRYPT_KIND, ROTATE_KIND)  # the jobs that rewrite values (one at a time)
RESULT_TEMPLATE = "security/_key_job_result.html"
AUDIT_OBJECT = "core.keys"  # the object type of kith.core.keys' own audit entries


class KeyJobRefused(DomainError):
    """A key job that cannot start now (the keys come from the environment, another job is running)."""

    code = "key_job_refused"
    status = 409

    def default_message(self) -> str:
        return str(gettext_lazy("This key job cannot start now."))


@dataclass(frozen=True)
class KeyCount:
    """One key's share of a column."""

    key_id: str
    values: int
    primary: bool
    percent: int


@dataclass(frozen=True)
class ColumnCount:
    label: str  # app.model.field, as the tokens are bound
    name: str  # for people: "customer: ID document number"
    total: int
    stale: int
    keys: list[KeyCount]

    @property
    def under_primary(self) -> int:
        return self.total - self.stale


@dataclass
class KeyStatus:
    """The keyring now, with the counts of the last count (taken when ``counted_at``; none before the
    first); ``running`` is a key job queued or running now, if any."""

    status: keys.Status
    counted_at: dt.datetime | None = None
    counted_by: Job | None = None
    running: Job | None = None
    columns: list[ColumnCount] = field(default_factory=list)
    rotation_refusal: str = ""  # why "Rotate" cannot run here ("" when it can)
    counted_primary: str = ""  # the primary key when the counts were taken

    @property
    def counted(self) -> bool:
        return self.counted_at is not None

    @property
    def stale(self) -> int:
        """Values under another key than today's primary one, at the last count."""
        return self.status.stale

    @property
    def primary_changed(self) -> bool:
        """The primary key is not the one of the last count (rotated since, from the command line say)."""
        return bool(self.counted_primary) and self.counted_primary != self.status.primary

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.status.as_dict(),
            "counted_at": self.counted_at,
            "count_job": self.counted_by.pk if self.counted_by is not None else None,
        }


def key_status(*, user: Any) -> KeyStatus:
    """The keyring (read now: fast, no counting) and the last count of values per key and column."""
    require_permission(user, "security", VIEW)
    status = keys.status(count=False)
    last = job_selectors.last_succeeded(KINDS)
    found = KeyStatus(
        status,
        running=job_selectors.unfinished(KINDS),
        rotation_refusal=rotation_refusal() if status.from_environment else "",
    )
    counted = (last.result or {}).get("status") if last is not None else None
    if last is not None and isinstance(counted, dict):
        status.columns = {str(label): dict(per_key) for label, per_key in counted.get("columns", {}).items()}
        found.counted_at, found.counted_by = last.finished_at, last
        found.counted_primary = str(counted.get("primary") or "")
        found.columns = [_column(label, per_key, status.primary) for label, per_key in status.columns.items()]
    return found


def _column(label: str, per_key: dict[str, int], primary: str) -> ColumnCount:
    total = sum(per_key.values())
    ordered = sorted(per_key.items(), key=lambda item: (item[0] != primary, item[0]))
    return ColumnCount(
        label=label,
        name=_column_name(label),
        total=total,
        stale=sum(n for kid, n in per_key.items() if kid != primary),
        keys=[KeyCount(kid, n, kid == primary, round(n * 100 / total) if total else 0) for kid, n in ordered],
    )


def _column_name(label: str) -> str:
    app_label, _dot, rest = label.partition(".")
    model_name, _dot, field_name = rest.partition(".")
    try:
        model = apps.get_model(app_label, model_name)
        verbose = model._meta.get_field(field_name).verbose_name  # type: ignore[union-attr]
    except (LookupError, FieldDoesNotExist):
        return label
    return f"{model._meta.verbose_name}: {verbose}"


# --- starting -----------------------------------------------------------------------------------------


def start_count(*, actor: Any, source: str | None = None) -> Job:
    """Count the values under each key as a job (the one already queued or running, if there is one)."""
    require_permission(actor, "security", ADMINISTER)
    running = job_selectors.unfinished(KINDS)
    if running is not None and running.kind == COUNT_KIND:
        return running
    _refuse_while_changing()
    return jobs.start(
        COUNT_KIND,
        actor=actor,
        params={},
        title=_("Count the values under each encryption key"),
        source=source,
    )


def start_reencrypt(*, actor: Any, indexes: bool = False, source: str | None = None) -> Job:
    """Bring every encrypted value under the primary key, as a job (audited)."""
    require_permission(actor, "security", ADMINISTER)
    _refuse_while_changing()
    return _start_changing(
        REENCRYPT_KIND,
        actor=actor,
        params={"indexes": indexes},
        title=_("Re-encrypt under the primary key"),
        source=source,
    )


def start_rotate(*, actor: Any, index: bool = False, source: str | None = None) -> Job:
    """A new primary key in the instance keyring and every value re-encrypted under it, as a job (audited).
    Refused when the keys come from the environment: only whoever runs Kith can put a key there."""
    require_permission(actor, "security", ADMINISTER)
    refusal = rotation_refusal()
    if refusal:
        raise KeyJobRefused(refusal, code="keys_from_environment")
    _refuse_while_changing()
    return _start_changing(
        ROTATE_KIND, actor=actor, params={"index": index}, title=_("Rotate the encryption key"), source=source
    )


def rotation_refusal() -> str:
    """Why a rotation cannot start from the web or the API ("" when it can): the keys come from the
    environment, where only whoever runs Kith can put a new key."""
    try:
        keys.check_rotatable()
    except ImproperlyConfigured as exc:
        return str(exc)
    return ""


def _refuse_while_changing() -> None:
    running = job_selectors.unfinished(CHANGING)
    if running is not None:
        raise KeyJobRefused(
            _("“%(title)s”, started by %(user)s, has not finished yet; wait until it has.")
            % {"title": running.title, "user": running.owner},
            code="key_job_running",
        )


_LOCK_KEY = 0x6B6974686B657973  # pg_advisory_xact_lock key: "kithkeys"


def _lock_key_jobs() -> None:
    """Hold the key-jobs lock until the transaction ends, so that two requests cannot both find no key
    job running and both start one. PostgreSQL: an advisory lock; SQLite: a write as the transaction's
    first statement takes the database's write lock (a read first would only see a snapshot)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        else:
            table = connection.ops.quote_name(Generation._meta.db_table)
            cursor.execute(f"UPDATE {table} SET value = value WHERE id = -1")  # noqa: S608


def _start_changing(code: str, *, actor: Any, params: dict[str, Any], title: str, source: str | None) -> Job:
    operation = code.rsplit("_", 1)[-1]  # "reencrypt" or "rotate", as the command says it
    with transaction.atomic():  # the job and its audit entry, or neither
        _lock_key_jobs()
        _refuse_while_changing()  # again, under the lock
        job = jobs.start(code, actor=actor, params=params, title=title, source=source)
        record_event(
            Action.KEY_ROTATION,
            object_type=AUDIT_OBJECT,
            object_repr=f"{operation} requested (job {job.pk})",
            details={"requested": operation, "job": job.pk, **params},
            actor=actor,
        )
    return job


# --- running (the job kinds, registered in SecurityConfig.ready) ----------------------------------------


def run_count(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    found = keys.status(progress=_column_progress(progress))
    return {"status": found.as_dict()}


def run_reencrypt(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    indexes = bool(job.params.get("indexes"))
    with audit_context(source=Source.JOB, actor=job.owner):
        progress.set_total(keys.encrypted_rows())
        counts = keys.reencrypt(indexes=indexes, progress=_row_progress(progress))
    return _changed({"reencrypted": counts, "indexes": indexes})


def run_rotate(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    index = bool(job.params.get("index"))
    noted = str(job.result.get("new_primary") or "")  # an earlier attempt's new key, if it wrote one
    with audit_context(source=Source.JOB, actor=job.owner):
        progress.set_total(keys.encrypted_rows())
        if noted and keys.status(count=False).primary == noted:
            new_id, counts = noted, keys.reencrypt(indexes=index, progress=_row_progress(progress))
        else:
            try:
                new_id, counts = keys.rotate(
                    index=index,
                    progress=_row_progress(progress),
                    on_new_key=lambda kid: jobs.save_checkpoint(job, {"new_primary": kid}),
                )
            except ImproperlyConfigured as exc:  # the worker's environment holds the keys
                raise ValidationError(str(exc)) from None
    return _changed({"new_primary": new_id, "reencrypted": counts, "index": index})


def _changed(result: dict[str, Any]) -> dict[str, Any]:
    """A re-encryption's result, with the count taken after it (so the page shows where things stand)."""
    return {**result, "total": sum(result["reencrypted"].values()), "status": keys.status().as_dict()}


def _column_progress(progress: jobs.Progress) -> keys.Progress:
    def report(label: str, done: int, total: int) -> None:
        if progress.total != total:
            progress.set_total(total)
        progress.advance(done - progress.done)

    return report


def _row_progress(progress: jobs.Progress) -> keys.Progress:
    """``kith.core.keys`` reports rows per table; the job counts rows over all tables (its total set
    first). The passes over sealed JSON are not in that total: it grows to what was done."""
    seen: dict[str, int] = {}

    def report(table: str, done: int, total: int) -> None:
        step = max(0, done - seen.get(table, 0))
        seen[table] = done
        if progress.total is not None and progress.done + step > progress.total:
            progress.set_total(progress.done + step)
        progress.advance(step)

    return report


RUNNERS: dict[str, tuple[Any, Callable[[Job, jobs.Progress], dict[str, Any]]]] = {
    COUNT_KIND: (gettext_lazy("Count of values per encryption key"), run_count),
    REENCRYPT_KIND: (gettext_lazy("Re-encryption under the primary key"), run_reencrypt),
    ROTATE_KIND: (gettext_lazy("Encryption key rotation"), run_rotate),
}
