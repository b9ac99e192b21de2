"""The printed table, machine facts and the git commit (read from .git without running git)."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from pathlib import Path
from typing import Any

from bench import ROOT


def git_commit(root: Path = ROOT) -> str:
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        dirs = [git]
        if (git / "commondir").exists():
            dirs.append((git / (git / "commondir").read_text().strip()).resolve())
        for base in dirs:
            if (base / ref).exists():
                return (base / ref).read_text().strip()
            packed = base / "packed-refs"
            if packed.exists():
                for line in packed.read_text().splitlines():
                    if line.endswith(f" {ref}"):
                        return line.split()[0]
    except (OSError, IndexError):
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def machine_info() -> dict[str, Any]:
    try:
        import django

        django_version = django.get_version()
    except ImportError:
        django_version = "not installed"
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": sys.version.split()[0],
        "django": django_version,
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": [round(x, 2) for x in load],
    }


def _fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict[str, Any]], title: str) -> None:
    headers = ["engine", "measurement", "n", "p50 ms", "p95 ms", "rate", "target", "result", "notes"]
    table = []
    for r in rows:
        rate = f"{r['value']:,.0f} {r.get('unit', '')}".strip() if r.get("value") is not None else "-"
        status = r.get("status", "-").upper() if r.get("status") in ("pass", "fail") else r.get("status", "-")
        notes = list(r.get("notes", []))
        if r.get("errors"):
            notes.insert(0, f"{r['errors']} ERRORS")
        table.append(
            [
                r["engine"],
                r["name"],
                str(r.get("n", 0)),
                _fmt(r.get("p50_ms")),
                _fmt(r.get("p95_ms")),
                rate,
                r["target"],
                status,
                "; ".join(notes),
            ]
        )
    widths = [
        max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(headers)
    ]
    widths[-1] = len(headers[-1])
    right = {2, 3, 4, 5}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(f"Kith bench, {title}")
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in table:
        print(line(row).rstrip())
