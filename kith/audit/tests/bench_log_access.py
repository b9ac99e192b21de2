"""Micro-benchmark of ``log_access`` (the access log's one insert plus the alert counter) on SQLite.

Run: ``.venv/bin/python kith/audit/tests/bench_log_access.py`` — migrates a throw-away database in a
temporary folder and prints the time per call for a customer page and a 25-row search page (budget:
about 0.2 ms per call). Not a test: timings belong to benchmarks, not to the suite.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    folder = tempfile.mkdtemp(prefix="kith-bench-log-")
    os.environ["KITH_INSTANCE_DIR"] = folder
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from kith.audit.services import log_access

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="a-long-Passw0rd!")
    page = list(range(1000, 1025))
    for label, kind, ids in (("customer page", "view", [42]), ("search, 25 ids", "search", page)):
        for _ in range(100):  # warm up
            log_access(user, kind, customer_ids=ids, query="smith")
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(1000):
                log_access(user, kind, customer_ids=ids, query="smith", filters={"kind": "person"})
            best = min(best, time.perf_counter() - start)
        print(f"{label}: {best:.3f} ms per call (best of 3 × 1,000 calls)")


if __name__ == "__main__":
    main()
