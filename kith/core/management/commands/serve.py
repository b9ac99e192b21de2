"""``kith serve``: gunicorn (WSGI) on 127.0.0.1:$PORT, a background worker and the daily scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Kith with gunicorn, a background worker and the scheduler; Ctrl-C stops all three."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--no-worker", action="store_true", help="Do not start a background worker.")

    def handle(self, *args: Any, port: int, host: str, workers: int, no_worker: bool, **options: Any) -> None:
        kith = [sys.executable, "-m", "kith"]
        children: list[subprocess.Popen[bytes]] = []
        if not no_worker:
            children.append(subprocess.Popen([*kith, "worker"]))
            children.append(subprocess.Popen([*kith, "schedule", "--loop"]))
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ]
        )
        children.append(web)
        self.stdout.write(self.style.SUCCESS(f"Kith is serving on http://{host}:{port}/  (Ctrl-C to stop)"))

        def stop(*_: Any) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()

        def on_term(*_: Any) -> None:
            stop()
            sys.exit(0)

        signal.signal(signal.SIGTERM, on_term)
        try:
            while web.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
