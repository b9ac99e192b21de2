"""gunicorn as a real server process for the measurements; always stopped again."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from bench import DATA_DIR, ROOT, BenchError, venv_bin
from bench.database import Engine

HOST = "127.0.0.1"
WORKERS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """``with Gunicorn(engine) as server:`` starts gunicorn, waits until it answers, stops it on exit."""

    def __init__(self, engine: Engine, *, workers: int = WORKERS) -> None:
        self.engine = engine
        self.workers = workers
        self.port = free_port()
        self.log = DATA_DIR / "logs" / f"{engine.name}-gunicorn.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return HOST

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        args = [
            str(venv_bin() / "gunicorn"),
            "config.wsgi",
            "-b",
            f"{HOST}:{self.port}",
            "-w",
            str(self.workers),
            "--graceful-timeout",
            "5",
            "--timeout",
            "120",
            "--error-logfile",
            str(self.log),
        ]
        # A session of its own: Ctrl-C reaches only the bench, which then stops gunicorn gracefully.
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env={
                    **self.engine.env(),
                    # The limiter runs (its cost is part of every figure) but never refuses the bench's
                    # thousands of requests per minute from one token.
                    "KITH_RATE_LIMITS": "login=1000000/60,search=100000000/60,api=100000000/60",
                },
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited with code {self.proc.returncode}\n{self.log_tail()}")
            if self._answers():
                print(f"  gunicorn ({self.workers} workers) answers on http://{HOST}:{self.port}/")
                return
            time.sleep(0.2)
        self.stop()
        raise BenchError(f"gunicorn did not answer within {timeout:.0f} s\n{self.log_tail()}")

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
        try:
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        print("  gunicorn stopped")

    def log_tail(self, lines: int = 20) -> str:
        path = Path(self.log)
        if not path.exists():
            return "  (no gunicorn log)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"    | {t}" for t in text) + f"\n  full log: {path}"
