"""``python -m bench``: Kith's benchmark, run through a real server on a database of demo customers.

For each engine (SQLite always, PostgreSQL when 127.0.0.1:5432 answers) it builds a database with
``kith demo`` (or reuses the one built before), starts gunicorn, measures search, pages, create and
throughput over HTTP, prints a table and writes ``bench/results/latest.json``. See ``bench/cli.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"


def venv_bin() -> Path:
    """The folder holding ``kith``, ``gunicorn`` and ``python`` of the environment Kith is installed in."""
    here = Path(sys.executable).parent
    if (here / "kith").exists() and (here / "gunicorn").exists():
        return here
    return ROOT / ".venv" / "bin"


class BenchError(Exception):
    """A failure explained in one readable message (no traceback is printed for it)."""
