"""Engine-specific copying: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore.

Each function works on a Django connection alias; ``scratch_alias`` opens a throwaway database (a
SQLite file or a PostgreSQL database) under a temporary alias so the checksums read it through Django.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connections
from django.utils.translation import gettext as _

from kith.backups.errors import BackupError

SQLITE, POSTGRESQL = "sqlite", "postgresql"
SUFFIX = {SQLITE: ".sqlite3", POSTGRESQL: ".pgdump"}


def engine_of(using: str = "default") -> str:
    vendor = connections[using].vendor
    if vendor not in SUFFIX:
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor})
    return vendor


# --- SQLite -----------------------------------------------------------------------------------------


def _raw_sqlite(using: str) -> sqlite3.Connection:
    connection = connections[using]
    connection.ensure_connection()
    return connection.connection  # type: ignore[no-any-return]


def sqlite_backup(target: Path, *, using: str = "default") -> None:
    """Copy the live database in one step of the online backup API: a consistent snapshot under WAL."""
    if connections[using].in_atomic_block:
        # the backup would wait for this very transaction to end: Python retries a locked copy forever
        raise BackupError(_("A backup cannot be made inside a database transaction."))
    destination = sqlite3.connect(target)
    try:
        _raw_sqlite(using).backup(destination)
        # a standalone file: no -wal / -shm companions needed to read it
        destination.execute("PRAGMA journal_mode=DELETE")
        result = destination.execute("PRAGMA integrity_check").fetchone()
    finally:
        destination.close()
    if not result or result[0] != "ok":
        raise BackupError(
            _("The copied SQLite database fails its integrity check: %(result)s") % {"result": result}
        )


def sqlite_restore(source: Path, *, using: str = "default") -> None:
    """Replace the whole database ``using`` with ``source`` (online backup API, in one step)."""
    origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check = origin.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(_("The backup's SQLite file is damaged: %(result)s") % {"result": check})
        if connections[using].in_atomic_block:
            raise BackupError(_("A restore cannot run inside a database transaction."))
        origin.backup(_raw_sqlite(using))
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            _("The backup is not a readable SQLite database (%(error)s).") % {"error": exc}
        ) from exc
    finally:
        origin.close()


# --- PostgreSQL -------------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            _("%(tool)s was not found: install the PostgreSQL client tools (Debian: postgresql-client).")
            % {"tool": name}
        )
    return path


def _pg_args(settings_dict: dict[str, Any], dbname: str) -> tuple[list[str], dict[str, str]]:
    args = ["--dbname", dbname, "--no-password"]
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(error)s")
            % {"tool": Path(command[0]).name, "error": (done.stderr or done.stdout).strip()[-2000:]}
        )


def pg_dump(target: Path, *, using: str = "default", snapshot: str | None = None) -> None:
    settings_dict = connections[using].settings_dict
    args, env = _pg_args(settings_dict, settings_dict["NAME"])
    command = [pg_tool("pg_dump"), "--format=custom", "--file", str(target), *args]
    if snapshot:
        command += ["--snapshot", snapshot]
    _run(command, env)


def _dump_tables(source: Path) -> set[tuple[str, str]]:
    """(schema, table) of every table in a custom-format dump, from its table of contents."""
    done = subprocess.run(
        [pg_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(
            _("pg_restore cannot read the backup: %(error)s") % {"error": done.stderr.strip()[-2000:]}
        )
    tables = set()
    for line in done.stdout.splitlines():
        parts = line.split(";", 1)[-1].split()
        # "<dump id>; <class oid> <object oid> TABLE <schema> <name> <owner>"
        if len(parts) >= 5 and parts[2] == "TABLE":
            tables.add((parts[3], parts[4]))
    return tables


def _live_tables(using: str) -> set[tuple[str, str]]:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return {(schema, name) for schema, name in cursor.fetchall()}


def pg_restore(source: Path, *, using: str = "default") -> None:
    """Make the database ``using`` what the dump holds, in one transaction.

    ``pg_restore --clean --if-exists`` replaces the dump's objects; tables the dump does not have (made
    by a later migration) are dropped first, in the same transaction, since their foreign keys would
    stop the clean-up. pg_restore writes the script, psql runs it as one transaction.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    extra = sorted(_live_tables(using) - _dump_tables(source))
    args, env = _pg_args(connection.settings_dict, connection.settings_dict["NAME"])
    drops = "".join(f"DROP TABLE IF EXISTS {quote(schema)}.{quote(name)} CASCADE;" for schema, name in extra)
    script = subprocess.Popen(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--file",
            "-",
            str(source),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert script.stdout is not None
    applied = subprocess.run(
        [
            pg_tool("psql"),
            *args,
            "--single-transaction",
            "--quiet",
            "--no-psqlrc",
            "--set",
            "ON_ERROR_STOP=1",
            "--command",
            drops or "SELECT 1;",
            "--file",
            "-",
        ],
        stdin=script.stdout,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    script.stdout.close()
    _unused, script_errors = script.communicate()
    if script.returncode != 0:
        raise BackupError(
            _("pg_restore failed: %(error)s")
            % {"error": script_errors.decode(errors="replace").strip()[-2000:]}
        )
    if applied.returncode != 0:
        raise BackupError(
            _("The restore failed and was undone: %(error)s") % {"error": applied.stderr.strip()[-2000:]}
        )


@contextlib.contextmanager
def pg_snapshot(*, using: str = "default") -> Iterator[tuple[str, str]]:
    """A repeatable-read transaction on its own connection, exported so pg_dump sees the same data."""
    alias = f"kith_backup_snapshot_{uuid.uuid4().hex[:8]}"
    _add_alias(alias, dict(connections[using].settings_dict))
    try:
        connection = connections[alias]
        connection.set_autocommit(False)
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
        assert row is not None
        yield alias, str(row[0])
        connection.rollback()
    finally:
        _drop_alias(alias)


def _admin_cursor(settings_dict: dict[str, Any]) -> Any:
    import psycopg

    params: dict[str, Any] = {"dbname": "postgres", "autocommit": True}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if settings_dict.get(key):
            params[name] = settings_dict[key]
    return psycopg.connect(**params)


# --- scratch databases ----------------------------------------------------------------------------


def _add_alias(alias: str, settings_dict: dict[str, Any]) -> None:
    """Register a temporary alias and connect it at once (Django's test guard allows only known aliases
    to connect lazily; a connection opened here is used as it is)."""
    connections.databases[alias] = settings_dict
    connections[alias].connect()


def _drop_alias(alias: str) -> None:
    if alias in connections.databases:
        with contextlib.suppress(Exception):
            connections[alias].close()
        with contextlib.suppress(AttributeError, KeyError):
            del connections[alias]
        del connections.databases[alias]


@contextlib.contextmanager
def sqlite_file_alias(path: Path) -> Iterator[str]:
    """A Django alias reading the SQLite file ``path`` (no WAL set-up: the file is left standalone)."""
    alias = f"kith_backup_file_{uuid.uuid4().hex[:8]}"
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict.update({"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": {}})
    settings_dict["TEST"] = {"NAME": None}
    _add_alias(alias, settings_dict)
    try:
        yield alias
    finally:
        _drop_alias(alias)


@contextlib.contextmanager
def pg_scratch_database(name: str, *, using: str = "default") -> Iterator[str]:
    """Create the empty database ``name`` beside ``using``, yield an alias on it, drop it afterwards."""
    settings_dict = copy.deepcopy(connections[using].settings_dict)
    quoted = connections[using].ops.quote_name(name)
    with _admin_cursor(settings_dict) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {quoted}")
    alias = f"kith_backup_scratch_{uuid.uuid4().hex[:8]}"
    settings_dict["NAME"] = name
    _add_alias(alias, settings_dict)
    try:
        yield alias
    finally:
        _drop_alias(alias)
        with _admin_cursor(settings_dict) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
