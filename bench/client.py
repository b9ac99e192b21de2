"""A small HTTP client on http.client: one connection kept open where the server allows, cookies, timing."""

from __future__ import annotations

import http.client
import math
import re
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie

from bench import BenchError


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float
    location: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def snippet(self, size: int = 300) -> str:
        text = self.body[:size].decode("utf-8", "replace")
        return " ".join(text.split())


class Client:
    def __init__(self, host: str, port: int, *, token: str = "", timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.token = token
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def close(self) -> None:
        self.conn.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str = "",
        accept: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        head = {"Accept": accept}
        if self.token:
            head["Authorization"] = f"Token {self.token}"
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            head["Content-Type"] = content_type
        head.update(headers or {})
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=head)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError) as exc:
                # a kept-alive connection the server had already closed: open a new one once
                self.conn.close()
                if attempt == 2:
                    raise BenchError(f"{method} {path}: no answer from the server ({exc})") from exc
            except OSError as exc:
                self.conn.close()
                raise BenchError(f"{method} {path}: {exc}") from exc
        seconds = time.perf_counter() - started
        for header in resp.msg.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        if resp.will_close:
            self.conn.close()
        return Reply(resp.status, data, seconds, resp.getheader("Location") or "")

    def get(self, path: str, *, accept: str = "application/json") -> Reply:
        return self.request("GET", path, accept=accept)

    def login(self, username: str, password: str, path: str = "/accounts/login/") -> None:
        """Session login through the login form (csrftoken cookie + csrfmiddlewaretoken field)."""
        page = self.get(path, accept="text/html")
        if page.status == 404:
            raise BenchError(f"GET {path} answered 404: the login page is missing")
        if not page.ok:
            raise BenchError(f"GET {path} answered {page.status}: {page.snippet()}")
        match = re.search(rb'name=["\']csrfmiddlewaretoken["\']\s+value=["\']([^"\']+)', page.body)
        if not match:
            match = re.search(rb'value=["\']([^"\']+)["\']\s+name=["\']csrfmiddlewaretoken', page.body)
        if not match:
            raise BenchError(f"GET {path}: no csrfmiddlewaretoken in the login form")
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": match.group(1).decode(), "username": username, "password": password}
        ).encode()
        reply = self.request(
            "POST",
            path,
            body=form,
            content_type="application/x-www-form-urlencoded",
            accept="text/html",
            headers={"Referer": f"http://{self.host}:{self.port}{path}"},
        )
        if reply.status not in (302, 303) or "sessionid" not in self.cookies:
            raise BenchError(f"login as {username!r} failed: POST {path} answered {reply.status}")


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
