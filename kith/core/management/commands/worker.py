"""``kith worker``: process background jobs from the database queue (any number of workers, any machine)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Process background jobs (Django Tasks, database backend)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", action="store_true", help="Process what is queued, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls of the queue.")

    def handle(self, *args: Any, batch: bool = False, interval: float = 1.0, **options: Any) -> None:
        from kith.jobs.services import recover_stale

        for job_id in recover_stale():
            self.stdout.write(f"job {job_id}: its worker stopped; queued again")
        extra = ["--batch"] if batch else []
        call_command(
            "db_worker", "--queue-name", "*", "--interval", str(interval), "--no-startup-delay", *extra
        )
