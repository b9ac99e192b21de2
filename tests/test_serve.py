"""`kith serve` really serves: gunicorn answers, static assets come from the app, children stop with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("serve")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        # the first request loads the whole app (seconds on a busy machine): a long timeout
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_runs_web_worker_and_scheduler(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "KITH_INSTANCE_DIR": str(tmp_path),
        "KITH_LOG_LEVEL": "ERROR",
    }
    kith = [sys.executable, "-m", "kith"]
    subprocess.run([*kith, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)
    port = _free_port()
    proc = subprocess.Popen(
        [*kith, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        status, body = 0, b""
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/accounts/login/")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert status == 200, body[:500]
        assert b"csrfmiddlewaretoken" in body
        status, body = _get(f"http://127.0.0.1:{port}/static/vendor/htmx-2.0.11.min.js")
        assert status == 200 and b"htmx" in body
        children = subprocess.run(
            ["pgrep", "-f", "-s", str(proc.pid), "kith (worker|schedule)"], capture_output=True, text=True
        )
        assert len(children.stdout.split()) == 2, "worker and scheduler should run beside the web server"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "serve must stop its children"
