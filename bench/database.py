"""Bench databases: one per engine, built with ``kith migrate`` + ``kith demo`` and reused while they fit."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import BENCH_DIR, DATA_DIR, ROOT, BenchError, venv_bin

SEED = 42
SECRET_KEY = "kith-bench-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
PG_HOST, PG_PORT, PG_USER, PG_DB = "127.0.0.1", 5432, "postgres", "kith_bench"
LOG_TAIL = 10


@dataclass
class Engine:
    name: str  # sqlite or postgres
    database_url: str
    info: dict[str, Any] = field(default_factory=dict)
    role: str = (
        ""  # "": the main bench database; "import": the import/export database; "import-run": its copy
    )
    sqlite_file: Path | None = None
    pg_db: str = PG_DB

    @property
    def key(self) -> str:
        """The name of its marker and logs: ``sqlite``, ``postgres-import`` ..."""
        return f"{self.name}-{self.role}" if self.role else self.name

    @property
    def marker(self) -> Path:
        return DATA_DIR / f"{self.key}.marker.json"

    def env(self) -> dict[str, str]:
        """Environment for every Kith subprocess on this engine: its database, DEBUG off, a fixed key."""
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            DJANGO_SETTINGS_MODULE="config.settings",
            SECRET_KEY=SECRET_KEY,
            KITH_DEBUG="0",
            KITH_INSTANCE_DIR=str(DATA_DIR / "instance"),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(p for p in [str(ROOT), env.get("PYTHONPATH", "")] if p),
        )
        return env

    # -- engine-specific pieces -------------------------------------------------------------------
    def count_customers(self) -> int | None:
        """``SELECT count(*)`` on the customer table; None when the database or table is not there."""
        sql = "SELECT count(*) FROM parties_customer"
        if self.name == "sqlite":
            path = self.sqlite_file or sqlite_path()
            if not path.exists():
                return None
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                    return int(conn.execute(sql).fetchone()[0])
            except sqlite3.Error:
                return None
        import psycopg

        try:
            with psycopg.connect(pg_dsn(self.pg_db), connect_timeout=5) as conn:
                row = conn.execute(sql).fetchone()
                return int(row[0]) if row else None
        except psycopg.Error:
            return None

    def drop(self, *, create: bool = True) -> None:
        """Remove the database (and, on PostgreSQL, create it again empty unless ``create`` is false)."""
        if self.name == "sqlite":
            path = self.sqlite_file or sqlite_path()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(pg_dsn("postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
            if create:
                conn.execute(f'CREATE DATABASE "{self.pg_db}"')

    def copy_to(self, target: Engine) -> float:
        """``target`` made a copy of this database (SQLite's online backup; a PostgreSQL template);
        seconds taken."""
        started = time.perf_counter()
        target.drop(create=False)
        if self.name == "sqlite":
            source, copy = self.sqlite_file or sqlite_path(), target.sqlite_file or sqlite_path()
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(copy) as dst:
                src.backup(dst)
        else:
            import psycopg

            with psycopg.connect(pg_dsn("postgres"), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{target.pg_db}" TEMPLATE "{self.pg_db}"')
        return time.perf_counter() - started

    def server_version(self) -> str:
        if self.name == "sqlite":
            return sqlite3.sqlite_version
        import psycopg

        with psycopg.connect(pg_dsn("postgres"), connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"


def sqlite_path() -> Path:
    return DATA_DIR / "bench.sqlite3"


def pg_dsn(dbname: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={dbname}"


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            pass
    except OSError:
        return False
    try:
        import psycopg

        with psycopg.connect(pg_dsn("postgres"), connect_timeout=3):
            return True
    except Exception as exc:
        print(f"  PostgreSQL answers on {PG_HOST}:{PG_PORT} but refuses user {PG_USER}: {exc}")
        return False


def make_engine(name: str) -> Engine:
    if name == "sqlite":
        return Engine("sqlite", f"sqlite:///{sqlite_path()}", sqlite_file=sqlite_path())
    if name == "postgres":
        if DATA_DIR != BENCH_DIR / "data":  # its marker would be missing: kith_bench would be rebuilt
            raise BenchError("KITH_BENCH_DATA_DIR is set: PostgreSQL is not run (use --engines sqlite)")
        return Engine("postgres", f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}")
    raise BenchError(f"unknown engine {name!r}: choose sqlite and/or postgres")


def import_engines(main: Engine) -> tuple[Engine, Engine]:
    """The import/export database of ``main``'s engine (built once with ``kith demo``, never changed:
    SQLite ``import.sqlite3``, PostgreSQL ``kith_bench_import``) and the working copy each run makes of
    it and drops afterwards (``import-run.sqlite3``, ``kith_bench_import_run``)."""
    made = []
    for role, stem in (("import", "import"), ("import-run", "import-run")):
        if main.name == "sqlite":
            path = DATA_DIR / f"{stem}.sqlite3"
            made.append(Engine("sqlite", f"sqlite:///{path}", role=role, sqlite_file=path))
        else:
            db = f"{PG_DB}_{stem.replace('-', '_')}"
            url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{db}"
            made.append(Engine("postgres", url, role=role, pg_db=db))
    return made[0], made[1]


# -- running Kith commands -------------------------------------------------------------------------
def run_logged(args: list[str], *, env: dict[str, str], log: Path, title: str, echo: bool = True) -> float:
    """Run a command, echo its output indented, keep it in ``log``; return seconds; BenchError on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tail: list[str] = []
    with log.open("w") as fh:
        fh.write(f"$ {' '.join(args)}\n")
        try:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise BenchError(f"{title}: cannot start {args[0]}: {exc}") from exc
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                fh.write(line)
                tail = [*tail[-(LOG_TAIL - 1) :], line.rstrip()]
                if echo:
                    print(f"    | {line.rstrip()}", flush=True)
            code = proc.wait()
        except BaseException:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    elapsed = time.perf_counter() - started
    if code != 0:
        shown = "\n".join(f"    | {t}" for t in tail) if not echo else "    (output above)"
        hint = ""
        if any("Unknown command" in t for t in tail):
            hint = "\n  The command does not exist yet in this checkout."
        raise BenchError(f"{title} failed (exit code {code}); log: {log}\n{shown}{hint}")
    return elapsed


def _reported_rate(log: Path) -> float | None:
    """The rate ``kith demo`` printed about itself ("... (21,345 customers/s)"), if it printed one."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return None
    found = re.findall(r"([\d][\d,]*(?:\.\d+)?)\s*customers/s", text)
    try:
        return float(found[-1].replace(",", "")) if found else None
    except ValueError:
        return None


def build(engine: Engine, customers: int, *, rebuild: bool, echo: bool = True) -> dict[str, Any]:
    """Make sure the engine's database holds ``customers`` demo customers; return the build record."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    marker: dict[str, Any] = {}
    if engine.marker.exists():
        try:
            marker = json.loads(engine.marker.read_text())
        except ValueError:
            marker = {}
    count = engine.count_customers()
    if not rebuild and marker.get("customers") == customers and count is not None and count >= customers:
        print(f"  reusing the {engine.key} database: {count:,} customers (built {marker.get('built_at')})")
        run_logged(  # a no-op unless the code gained migrations since the build
            [str(venv_bin() / "kith"), "migrate", "--noinput"],
            env=engine.env(),
            log=DATA_DIR / "logs" / f"{engine.key}-migrate.log",
            title="kith migrate",
            echo=False,
        )
        return {**marker, "reused": True}
    reason = (
        "--rebuild"
        if rebuild
        else "no database yet"
        if count is None
        else f"it holds {count:,} customers, the marker says {marker.get('customers')}"
    )
    print(f"  building the {engine.key} database with {customers:,} customers ({reason})")
    engine.marker.unlink(missing_ok=True)
    engine.drop()
    env = engine.env()
    kith = str(venv_bin() / "kith")
    logs = DATA_DIR / "logs"
    migrate_s = run_logged(
        [kith, "migrate", "--noinput"],
        env=env,
        log=logs / f"{engine.key}-migrate.log",
        title="kith migrate",
        echo=False,
    )
    print(f"    migrate: {migrate_s:.1f} s")
    demo_s = run_logged(
        [kith, "demo", "--customers", str(customers), "--seed", str(SEED)],
        env=env,
        log=logs / f"{engine.key}-demo.log",
        title=f"kith demo --customers {customers} --seed {SEED}",
        echo=echo,
    )
    reported = _reported_rate(logs / f"{engine.key}-demo.log")
    count = engine.count_customers() or 0
    if count < customers:
        raise BenchError(
            f"kith demo finished but the {engine.key} database holds {count:,} customers, not {customers:,}"
        )
    record = {
        "customers": customers,
        "seed": SEED,
        "migrate_s": round(migrate_s, 3),
        "demo_s": round(demo_s, 3),
        "customers_per_s": round(customers / demo_s, 1) if demo_s else None,
        "customers_per_s_reported_by_demo": reported,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
    }
    engine.marker.write_text(json.dumps(record, indent=2))
    print(f"    demo: {demo_s:.1f} s = {record['customers_per_s']:,.0f} customers/s")
    return {**record, "reused": False}


def _in_django(
    engine: Engine, mode: str, name: str, title: str, *args: str, module: str = "bench.prepare"
) -> dict[str, Any]:
    """Run ``python -m MODULE MODE --out FILE ARGS`` with the engine's database; its JSON answer."""
    out = DATA_DIR / f"{engine.key}-{name}.json"
    out.unlink(missing_ok=True)
    run_logged(
        [str(venv_bin() / "python"), "-m", module, mode, "--out", str(out), *args],
        env=engine.env(),
        log=DATA_DIR / "logs" / f"{engine.key}-{name}.log",
        title=f"{title} ({module} {mode})",
        echo=False,
    )
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def prepare(engine: Engine, *, sample: int, busy: int) -> dict[str, Any]:
    """Bench user, token, sampled query values and ``busy`` customers with >= 50 timeline entries, read (and
    topped up where needed) inside Django by ``bench.prepare``."""
    return _in_django(
        engine,
        "setup",
        "samples",
        "bench user, token, sample values and busy customers",
        "--sample",
        str(sample),
        "--busy",
        str(busy),
    )


def audit_overhead(engine: Engine, *, count: int) -> dict[str, Any]:
    """Create and update p50/p95 through the services with and without the audit trail (bench.prepare)."""
    return _in_django(
        engine, "audit-overhead", "audit", "audit trail overhead on create and update", "--count", str(count)
    )


def cleanup(engine: Engine, numbers: list[str]) -> None:
    if not numbers:
        return
    path = DATA_DIR / f"{engine.name}-created.txt"
    path.write_text("\n".join(numbers))
    python = str(venv_bin() / "python")
    try:
        run_logged(
            [python, "-m", "bench.prepare", "cleanup", "--numbers", str(path)],
            env=engine.env(),
            log=DATA_DIR / "logs" / f"{engine.name}-cleanup.log",
            title="removing benchmark-created customers",
            echo=False,
        )
    except BenchError as exc:
        print(f"  warning: {exc}")


def workload(engine: Engine, mode: str, title: str, *args: str) -> dict[str, Any]:
    """A background-job workload (``bench.workloads``: import, export, duplicates) on ``engine``'s
    database, in a Django subprocess; its JSON answer."""
    return _in_django(engine, mode, mode, title, *args, module="bench.workloads")
