"""``python -m bench``: Kith's benchmark, run through a real server on a database of demo customers.

For each engine (SQLite always, PostgreSQL when 127.0.0.1:5432 answers) it builds a database with
``kith demo`` (or reuses the one built before), starts gunicorn, measures search, pages, create and
throughput over HTTP, prints a table and writes ``bench/results/latest.json``. See ``bench/cli.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
# KITH_BENCH_DATA_DIR / KITH_BENCH_RESULTS_DIR: trial runs (a small --customers) that must not replace the
# big bench database in bench/data nor bench/results/latest.json.
DATA_DIR = Path(os.environ.get("KITH_BENCH_DATA_DIR") or BENCH_DIR / "data").resolve()
RESULTS_DIR = Path(os.environ.get("KITH_BENCH_RESULTS_DIR") or BENCH_DIR / "results").resolve()


def venv_bin() -> Path:
    """The folder holding ``kith``, ``gunicorn`` and ``python`` of the environment Kith is installed in."""
    here = Path(sys.executable).parent
    if (here / "kith").exists() and (here / "gunicorn").exists():
        return here
    return ROOT / ".venv" / "bin"


class BenchError(Exception):
    """A failure explained in one readable message (no traceback is printed for it)."""
