"""A real HTTP receiver on loopback, and webhooks pointed at it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give in turn; then 200
    location: str = ""

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            code = state.next_status()
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", state.location or "/elsewhere")
            text = b"ok" if code < 300 else b"receiver says no"
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/kith?source=test"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> Iterator[None]:
    from kith.webhooks import events

    settings.KITH_WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    settings.KITH_WEBHOOK_TIMEOUT = 5
    events.forget()
    yield
    events.forget()  # a rolled-back test's webhooks must not be remembered by the next test
