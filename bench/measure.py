"""The measurements: latency series (p50/p95 over N requests) and the search-API throughput run."""

from __future__ import annotations

import multiprocessing as mp
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench import BenchError
from bench.client import Client, Reply, percentile

WARMUP = 10
MAX_EXAMPLES = 3


@dataclass
class Call:
    method: str
    path: str
    body: bytes | None = None
    content_type: str = ""
    accept: str = "application/json"
    expect: str = ""  # a customer number that should appear in the answer ("" = no check)


@dataclass
class Result:
    engine: str
    name: str
    group: str
    target: str
    n: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None
    value: float | None = None  # a rate (req/s, customers/s) where the target is one
    unit: str = ""
    found: int | None = None  # answers that contained the customer the query was made from
    target_p95_ms: float | None = None
    target_min_rate: float | None = None
    status: str = ""  # pass, fail, error, missing, skipped
    notes: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)  # a few of the query values used

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], "")}


def judge(result: Result, *, max_p95: float | None = None, min_value: float | None = None) -> Result:
    result.target_p95_ms, result.target_min_rate = max_p95, min_value
    if result.status in ("missing", "skipped", "error"):
        return result
    if result.errors:
        result.status = "fail"
        result.notes.append(f"{result.errors} of {result.n} requests were not 2xx: not a valid result")
        return result
    ok = True
    if max_p95 is not None:
        ok = result.p95_ms is not None and result.p95_ms <= max_p95
    if min_value is not None:
        ok = ok and result.value is not None and result.value >= min_value
    result.status = "pass" if ok else "fail"
    return result


def _missing(reply: Reply) -> bool:
    """A route that does not exist: Django's 404 page, or DRF's "not found" for the whole prefix."""
    return reply.status in (404, 405) and (b"<html" in reply.body[:500].lower() or not reply.body.strip())


def series(
    client: Client,
    result: Result,
    calls: list[Call],
    *,
    warmup: list[Call] | None = None,
    on_reply: Callable[[Call, Reply], None] | None = None,
) -> Result:
    """Send ``calls`` one after another on one connection; fill latency figures and errors into ``result``."""
    if not calls:
        result.status = "skipped"
        result.notes.append("no suitable values in the database sample")
        return result
    warmup = list(warmup or calls[:1])
    for k, call in enumerate(warmup):
        reply = client.request(
            call.method, call.path, body=call.body, content_type=call.content_type, accept=call.accept
        )
        if on_reply:
            on_reply(call, reply)
        if k == 0 and _missing(reply):
            result.status = "missing"
            result.notes.append(
                f"{call.method} {call.path.split('?')[0]} answered {reply.status}: no such page"
            )
            return result
    times: list[float] = []
    found = 0
    for call in calls:
        reply = client.request(
            call.method, call.path, body=call.body, content_type=call.content_type, accept=call.accept
        )
        times.append(reply.seconds * 1000)
        if not reply.ok:
            result.errors += 1
            example = f"{call.method} {call.path} -> {reply.status}: {reply.snippet(200)}"
            if len(result.examples) < MAX_EXAMPLES and example not in result.examples:
                result.examples.append(example)
        elif call.expect and call.expect.encode() in reply.body:
            found += 1
        if on_reply:
            on_reply(call, reply)
        if result.errors == len(times) == 20:  # everything fails: stop early, say why
            result.status = "error"
            result.notes.append("the first 20 requests all failed; stopped")
            break
    times.sort()
    result.n = len(times)
    result.p50_ms = round(percentile(times, 50), 2)
    result.p95_ms = round(percentile(times, 95), 2)
    result.mean_ms = round(statistics.fmean(times), 2)
    result.max_ms = round(times[-1], 2)
    if any(c.expect for c in calls):
        result.found = found
    return result


def json_call(method: str, path: str, payload: dict[str, Any], expect: str = "") -> Call:
    return Call(method, path, orjson.dumps(payload), "application/json", "application/json", expect)


def number_from_reply(reply: Reply) -> str:
    try:
        data = orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        return ""
    if isinstance(data, dict):
        value = data.get("customer_number") or (data.get("customer") or {}).get("customer_number")
        return str(value or "")
    return ""


# -- throughput -----------------------------------------------------------------------------------
def _throughput_worker(
    host: str,
    port: int,
    token: str,
    paths: list[str],
    seconds: float,
    barrier: Any,
    out: Any,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    client = Client(host, port, token=token)
    count = errors = 0
    times: list[float] = []
    examples: list[str] = []
    try:
        for path in paths[:3]:
            client.get(path)
        barrier.wait(timeout=60)
        deadline = time.perf_counter() + seconds
        i = 3
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            reply = client.get(path)
            count += 1
            times.append(reply.seconds * 1000)
            if not reply.ok:
                errors += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(f"GET {path} -> {reply.status}: {reply.snippet(200)}")
    except Exception as exc:
        examples.append(f"client process failed: {exc}")
        errors += 1
    finally:
        client.close()
    out.put({"count": count, "errors": errors, "times": times, "examples": examples})


def throughput(
    host: str,
    port: int,
    token: str,
    paths: list[str],
    result: Result,
    *,
    concurrency: int = 8,
    seconds: float = 10.0,
) -> Result:
    """Search-API requests/s with ``concurrency`` connections for ``seconds``.

    The load comes from ``wrk`` (Debian's package; ``make bench`` installs it when it can): one C process
    that leaves the two cores to the server, as in ../shared/PERFORMANCE.md. Without it, ``concurrency``
    Python client processes make the load, and they take a large share of the same two cores.
    """
    if not paths:
        result.status = "skipped"
        result.notes.append("no query values")
        return result
    wrk = shutil.which("wrk")
    if wrk:
        return _throughput_wrk(
            wrk, host, port, token, paths, result, concurrency=concurrency, seconds=seconds
        )
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(concurrency)
    out = ctx.Queue()
    procs = []
    for k in range(concurrency):
        mine = paths[k::concurrency] or paths
        random.Random(k).shuffle(mine)
        procs.append(
            ctx.Process(
                target=_throughput_worker,
                args=(host, port, token, mine, seconds, barrier, out),
                daemon=True,
            )
        )
    reports: list[dict[str, Any]] = []
    try:
        for p in procs:
            p.start()
        for _ in procs:
            reports.append(out.get(timeout=seconds + 120))
    except Exception as exc:  # queue.Empty or a broken barrier
        raise BenchError(f"throughput run: a client process did not report ({exc!r})") from exc
    finally:
        unfinished = len(reports) < len(procs)
        for p in procs:
            if unfinished and p.is_alive():
                p.terminate()
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
    times = sorted(t for r in reports for t in r["times"])
    result.n = sum(r["count"] for r in reports)
    result.errors = sum(r["errors"] for r in reports)
    result.examples = [e for r in reports for e in r["examples"]][:MAX_EXAMPLES]
    result.value = round(result.n / seconds, 1)
    result.unit = "req/s"
    if times:
        result.p50_ms = round(percentile(times, 50), 2)
        result.p95_ms = round(percentile(times, 95), 2)
        result.mean_ms = round(statistics.fmean(times), 2)
        result.max_ms = round(times[-1], 2)
    result.notes.append(f"{concurrency} client processes, {seconds:.0f} s")
    return result


_WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Token %(token)s"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "KITH-WRK %%d %%d %%d %%d %%d %%d %%d %%.1f %%.1f %%.1f %%.1f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency.mean, latency.max))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _throughput_wrk(
    wrk: str,
    host: str,
    port: int,
    token: str,
    paths: list[str],
    result: Result,
    *,
    concurrency: int,
    seconds: float,
) -> Result:
    mine = list(paths)
    random.Random(0).shuffle(mine)
    script = _WRK_SCRIPT % {"paths": ", ".join(_lua_string(p) for p in mine), "token": token}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        script_path = handle.name
    try:
        run = subprocess.run(
            [
                wrk,
                "-t",
                "1",
                "-c",
                str(concurrency),
                "-d",
                f"{seconds:.0f}s",
                "-s",
                script_path,
                f"http://{host}:{port}/",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        Path(script_path).unlink(missing_ok=True)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("KITH-WRK ")), "")
    if run.returncode != 0 or not line:
        raise BenchError(f"wrk failed ({run.returncode}): {(run.stderr or run.stdout)[-500:]}")
    fields = line.split()[1:]
    requests, duration_us, *errs = (int(v) for v in fields[:7])
    p50, p95, mean, top = (float(v) / 1000 for v in fields[7:])
    result.n = requests
    result.errors = sum(errs)
    if errs[3]:
        result.examples.append(f"{errs[3]} answers were not 2xx/3xx")
    result.value = round(requests / (duration_us / 1e6), 1)
    result.unit = "req/s"
    result.p50_ms, result.p95_ms, result.mean_ms, result.max_ms = (round(v, 2) for v in (p50, p95, mean, top))
    result.notes.append(f"wrk, {concurrency} connections, {seconds:.0f} s, {len(mine)} different searches")
    return result
