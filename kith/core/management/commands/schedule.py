"""``kith schedule``: enqueue the daily jobs that are due, queue again the jobs whose worker died, delete
expired job files and idempotency keys, compare changed customers for duplicates, run the periodic work apps
register (``--loop`` keeps checking every minute)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from kith.core.schedule import run_due, run_periodic


class Command(BaseCommand):
    help = "Enqueue due daily jobs such as the anniversary digest."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running, checking every minute.")

    def handle(self, *args: Any, loop: bool = False, **options: Any) -> None:
        from kith.core.idempotency import purge_expired
        from kith.jobs.services import purge_files, recover_stale

        while True:
            for name in run_due():
                self.stdout.write(f"enqueued {name}")
            for job_id in recover_stale():  # jobs whose worker died: queued again
                self.stdout.write(f"job {job_id}: its worker stopped; queued again")
            purge_files()
            purge_expired()  # idempotency keys older than a day
            self._look_for_duplicates()
            for name, result in run_periodic():  # registered by apps (webhooks: queue the due deliveries)
                if result:
                    self.stdout.write(f"{name}: {result}")
            if not loop:
                return
            close_old_connections()
            time.sleep(60)

    def _look_for_duplicates(self) -> None:
        """Customers created or changed since the last look are compared with the others (cheap when
        nothing changed: one indexed query)."""
        from kith.parties.services import duplicates

        if duplicates.changed_since_scan():
            found = duplicates.scan_changed()
            if found:
                self.stdout.write(f"{found} new likely duplicate(s)")
