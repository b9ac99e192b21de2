"""The background-job measurements of issue 4: import, export and the duplicates report.

- **export** and **import** run on a database of their own per engine (``import_engines``): built once with
  ``kith migrate`` + ``kith demo --customers N --seed 42`` and reused while its marker fits (only
  ``kith migrate`` runs on it again); each run works on a fresh copy of it (SQLite's online backup, a
  PostgreSQL template database) that is dropped afterwards. The export (every customer, CSV) runs first,
  then the import of a generated file.
- **duplicates** runs on the main bench database: the scans in a Django subprocess (``bench.workloads``),
  the report page and API over HTTP through the bench's gunicorn.
"""

from __future__ import annotations

import http.client
from typing import Any

from bench import BenchError
from bench.client import Client
from bench.database import Engine, build, import_engines, workload
from bench.measure import WARMUP, Call, Result, judge, series

IMPORT_RATE = 10_000.0  # rows/s, wall clock of the import job, duplicates matched and rules applied
EXPORT_RATE = 50_000.0  # rows/s, wall clock of the export job
PAGE_P95 = 25.0
DUPLICATE_SAMPLE = 2000
DUPLICATE_TOUCH = 1000
FULL_SCAN_LIMIT = 300.0  # seconds: a longer full scan is estimated from the sample, not run


def _line(r: Result) -> None:
    from bench.cli import report_line

    report_line(r)


def import_export(engine: Engine, *, groups: set[str], rows: int, rebuild: bool) -> list[Result]:
    """Export then import on a fresh copy of the engine's import database (``rows`` demo customers)."""
    pristine, run = import_engines(engine)
    results: list[Result] = []
    built = build(pristine, rows, rebuild=rebuild, echo=False)
    copy_s = pristine.copy_to(run)
    print(f"    working copy {run.key} made in {copy_s:.1f} s", flush=True)
    try:
        if "export" in groups:
            print("  export (job, in process):", flush=True)
            results.append(_export(run, workload(run, "export", "export of every customer to CSV")))
        if "import" in groups:
            print(f"  import of {rows:,} generated rows (job, in process) ...", flush=True)
            data = workload(run, "import", "import of a generated CSV", "--rows", str(rows))
            results.append(_import(run, data, rows))
    finally:
        run.drop(create=False)
    for r in results:
        r.notes.append(
            f"database {pristine.key}: {rows:,} demo customers"
            + (f" (built {built.get('built_at')})" if built.get("reused") else " (built now)")
            + ", a fresh copy per run"
        )
    return results


def _export(engine: Engine, data: dict[str, Any]) -> Result:
    result = Result(engine.name, "export CSV (job)", "export", f">= {EXPORT_RATE:,.0f} rows/s")
    rows = int(data.get("rows") or 0)
    result.n = rows
    if data.get("status") != "succeeded":
        result.status = "error"
        result.notes.append(f"the export job {data.get('status')}: {data.get('message')}")
        _line(result)
        return result
    seconds = float(data["seconds"])
    result.value, result.unit = (rows / seconds if seconds else None), "rows/s"
    result.notes.append(
        f"{rows:,} customers in {seconds:.2f} s as a superuser, columns {', '.join(data['columns'])};"
        f" {data['file_bytes'] / 1e6:.1f} MB"
    )
    if not rows == data["file_rows"] == data["expected"]:
        result.errors += 1
        result.examples.append(
            f"job says {rows:,} rows, the file holds {data['file_rows']:,}, the database {data['expected']:,}"
        )
    judge(result, min_value=EXPORT_RATE)
    _line(result)
    return result


def _import(engine: Engine, data: dict[str, Any], rows: int) -> Result:
    result = Result(engine.name, "import CSV (job)", "import", f">= {IMPORT_RATE:,.0f} rows/s")
    result.n = int(data.get("rows") or 0)
    counts = data.get("counts") or {}
    if data.get("status") != "succeeded":
        result.status = "error"
        result.notes.append(f"the import job {data.get('status')}: {data.get('message')}")
        _line(result)
        return result
    seconds = float(data["seconds"])
    result.value, result.unit = (result.n / seconds if seconds else None), "rows/s"
    outcome = ", ".join(f"{v:,} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    result.notes.append(
        f"{result.n:,} rows in {seconds:.1f} s, default rules (exact: update, close name: skip): {outcome}"
    )
    result.notes.append(
        f"{data['duplicate_rows']:,} rows name a customer already there by phone or email"
        f" (half of them with a changed field), {data['new_rows']:,} are new"
    )
    if data.get("rejected_examples"):
        result.notes.append("rejected e.g. " + " | ".join(data["rejected_examples"][:2]))
    created = int(counts.get("created", 0))
    grown = int(data["customers_after"]) - int(data["customers_before"])
    problems = []
    if not data["accounted"] == result.n == rows == int(data.get("rows_reported") or 0):
        problems.append(
            f"{data['accounted']:,} outcomes and {data.get('rows_reported')} rows reported for"
            f" {result.n:,} rows in the file"
        )
    if grown != created:
        problems.append(f"{created:,} created, but the customer table grew by {grown:,}")
    if problems:
        result.errors += len(problems)
        result.examples += problems
        result.notes.append("not every row is accounted for: " + "; ".join(problems))
    judge(result, min_value=IMPORT_RATE)
    _line(result)
    return result


def duplicate_scans(engine: Engine) -> tuple[list[Result], dict[str, Any]]:
    """The scans on the main database: a sample's rate, the incremental scan, the full scan if it fits."""
    data = workload(
        engine,
        "duplicates",
        "duplicates scans",
        "--touch",
        str(DUPLICATE_TOUCH),
        "--sample",
        str(DUPLICATE_SAMPLE),
        "--full-limit",
        str(FULL_SCAN_LIMIT),
    )
    results = []
    sample = data["sample"]
    estimate = data.get("full_estimate_s")
    r = Result(engine.name, "duplicates scan (sample)", "duplicates", "measured")
    r.n, r.value, r.unit = sample["customers"], sample["per_s"], "customers/s"
    r.status = "info"
    r.notes.append(
        f"scan() of {sample['customers']:,} customers spread over the ids: {sample['seconds']} s;"
        f" {data['customers']:,} customers would take ~{estimate:,.0f} s"
        if estimate
        else "no customers"
    )
    _line(r)
    results.append(r)
    inc = data["incremental"]
    r = Result(engine.name, "duplicates incremental scan", "duplicates", "measured")
    r.n = inc["touched"]
    r.value = inc["touched"] / inc["seconds"] if inc["seconds"] else None
    r.unit = "customers/s"
    r.status = "info"
    r.notes.append(
        f"scan_changed() after touching {inc['touched']:,} customers (updated_at): {inc['seconds']} s,"
        f" {inc['new_pairs']:,} new pairs"
    )
    _line(r)
    results.append(r)
    r = Result(engine.name, "duplicates full scan", "duplicates", f"measured if ~<= {FULL_SCAN_LIMIT:g} s")
    full = data.get("full")
    if full:
        r.n = data["customers"]
        r.value = data["customers"] / full["seconds"] if full["seconds"] else None
        r.unit = "customers/s"
        r.status = "info" if full["status"] == "succeeded" else "error"
        r.notes.append(
            f"run_scan_all job: {full['seconds']:.0f} s for {data['customers']:,} customers, {full['status']};"
            f" result {full.get('result')}"
        )
    else:
        r.status = "skipped"
        r.n = data["customers"]
        r.value, r.unit = sample["per_s"], "customers/s"
        r.notes.append(
            f"not run: estimated {estimate:,.0f} s (> {FULL_SCAN_LIMIT:g} s) at {sample['per_s']:,.0f}"
            f" customers/s measured on a sample of {sample['customers']:,}"
            if estimate
            else "not run: no sample rate"
        )
    _line(r)
    results.append(r)
    return results, data


def duplicate_pages(web: Client, api: Client, engine: str, n: int, open_pairs: int) -> list[Result]:
    """p95 of the report page and the API: the first pages (following "next"), each asked in turn."""
    import orjson

    results = []
    api_paths = ["/api/v1/duplicates/"]
    problem = ""
    for _page in range(9):  # the keys of the next pages, read once (the warm-up requests)
        try:
            reply = api.request("GET", api_paths[-1])
        except BenchError as exc:  # a page that takes longer than the client waits (60 s)
            problem = str(exc)
            api_paths.pop()
            break
        if not reply.ok:
            break
        try:
            after = orjson.loads(reply.body).get("next")
        except ValueError:
            after = None
        if not after:
            break
        api_paths.append(f"/api/v1/duplicates/?after={after}")
    for name, client, base, accept in (
        ("duplicates report (web)", web, "/customers/duplicates/", "text/html"),
        ("duplicates report (API)", api, "/api/v1/duplicates/", "application/json"),
    ):
        result = Result(engine, name, "duplicates", f"p95 <= {PAGE_P95:g} ms")
        paths = [p.replace("/api/v1/duplicates/", base) for p in api_paths or ["/api/v1/duplicates/"]]
        result.notes.append(f"{open_pairs:,} open pairs; the first {len(paths)} pages of 50 in turn")
        if problem:
            result.notes.append(f"the next page was not measured: {problem}")
        if client is web and "sessionid" not in web.cookies:
            result.status = "skipped"
            result.notes.append("no session: the web login failed")
        else:
            calls = [Call("GET", paths[i % len(paths)], accept=accept) for i in range(n)]
            try:
                series(client, result, calls, warmup=calls[:WARMUP])
                judge(result, max_p95=PAGE_P95)
            except BenchError as exc:  # the server did not answer in time: the other series go on
                result.status = "error"
                result.notes.append(str(exc))
                client.close()
                client.conn = http.client.HTTPConnection(client.host, client.port, timeout=client.timeout)
        _line(result)
        results.append(result)
    return results


BOARD_P95 = 150.0  # ms, the kanban board with 10,000 open opportunities (issue 5)
STATS_ONE_P95, STATS_GROUP_P95 = 50.0, 300.0  # ms, consumption statistics: one customer, 10,000 over a year


def sales_pages(server: Any, engine: str, n: int, data: dict[str, Any]) -> list[Result]:
    """p95 of the opportunity board: as the bench superuser (sees every deal), the head of the
    organisation (every deal through the hierarchy) and a middle manager (a part of them)."""
    from bench.prepare import BENCH_PASSWORD, BENCH_USERNAME

    results = []
    who = [
        ("superuser", BENCH_USERNAME, f"{data.get('open', 0):,} open opportunities"),
        ("head", "bh0000", "the head of a 9-level, 2,000-user organisation: every deal via the hierarchy"),
        (
            "middle",
            data.get("middle", ""),
            f"a middle manager: {data.get('middle_open', 0):,} open deals in reach",
        ),
    ]
    consumption = data.get("consumption") or {}
    for name, target, paths, note in (
        (
            "consumption stats, one customer",
            STATS_ONE_P95,
            consumption.get("customer_paths") or [],
            f"{consumption.get('heavy_lines', 0)} lines each, a year by month",
        ),
        (
            "consumption stats, 10,000 customers",
            STATS_GROUP_P95,
            [consumption["group_path"]] if consumption.get("group_path") else [],
            "a tag on 10,000 customers spread over the ids, a year by month",
        ),
    ):
        result = Result(engine, name, "sales", f"p95 <= {target:g} ms")
        result.notes.append(f"{consumption.get('lines', 0):,} consumption lines; {note}")
        if not paths:
            result.status = "missing"
            result.notes.append("no statistics page (sales:consumption_stats) or no lines in this build")
            results.append(result)
            _line(result)
            continue
        client = Client(server.host, server.port)
        try:
            client.login(BENCH_USERNAME, BENCH_PASSWORD)
            calls = [Call("GET", paths[i % len(paths)], accept="text/html") for i in range(n)]
            series(client, result, calls, warmup=calls[:WARMUP])
            judge(result, max_p95=target)
        except BenchError as exc:
            result.status = "error"
            result.notes.append(str(exc))
        finally:
            client.close()
        _line(result)
        results.append(result)
    for label, username, note in who:
        result = Result(engine, f"opportunity board as {label}", "sales", f"p95 <= {BOARD_P95:g} ms")
        result.notes.append(note)
        if not data.get("board"):
            result.status = "missing"
            result.notes.append("no board page (sales:opportunity_board) in this build")
            results.append(result)
            _line(result)
            continue
        client = Client(server.host, server.port)
        try:
            client.login(username, BENCH_PASSWORD)
            calls = [Call("GET", data["board"], accept="text/html") for _ in range(n)]
            series(client, result, calls, warmup=calls[:WARMUP])
            judge(result, max_p95=BOARD_P95)
        except BenchError as exc:
            result.status = "error"
            result.notes.append(str(exc))
        finally:
            client.close()
        _line(result)
        results.append(result)
    return results
