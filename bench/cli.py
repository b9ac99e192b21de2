"""``python -m bench [--customers N] [--engines sqlite,postgres] [--requests R] [--rebuild]
[--only http,import,export,duplicates,sales] [--import-rows N]``."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR, ROOT, BenchError
from bench.batch import duplicate_pages, duplicate_scans, import_export, sales_pages
from bench.client import Client
from bench.database import (
    Engine,
    audit_overhead,
    build,
    cleanup,
    make_engine,
    postgres_reachable,
    prepare,
    workload,
)
from bench.measure import WARMUP, Call, Result, json_call, judge, number_from_reply, series, throughput
from bench.prepare import BENCH_PASSWORD, BENCH_USERNAME
from bench.queries import Query, build_queries
from bench.report import git_commit, machine_info, print_table

# (name, group, search kind, p95 target in ms)
SEARCHES = [
    ("search number", "exact", "number", 10.0),
    ("search phone", "exact", "phone", 10.0),
    ("search email", "exact", "email", 10.0),
    ("search name prefix", "prefix", "name_prefix", 10.0),
    ("search name substring", "substring", "name_substring", 25.0),
    ("search typo", "typo", "typo", 25.0),
    ("search pinyin full", "pinyin", "pinyin_full", 25.0),
    ("search pinyin initials", "pinyin", "pinyin_initials", 25.0),
]
PAGE_P95, CREATE_P95, MIN_RPS, MIN_DEMO_RATE = 25.0, 20.0, 1000.0, 20000.0
# http: searches, pages, create, visibility, throughput, audit overhead (the main database);
# import, export: jobs on a 100,000-customer database of their own; duplicates: scans and report (main);
# sales: the opportunity board with 10,000 open opportunities (main)
GROUPS = ("http", "import", "export", "duplicates", "sales")
AUDIT_OVERHEAD = 1.2  # create/update p95 with audit entries at most this multiple of the p95 without
BUSY_ENTRIES = 50  # timeline entries of the customers whose page is measured
SALES_OPEN = 10_000  # open opportunities on the board
SALES_LINES = 10_000_000  # consumption lines for the statistics
BUSY_CUSTOMERS = 200 + WARMUP  # 10 for the warm-up, 200 measured once each


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000, help="demo customers (default 1,000,000)")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--requests", type=int, default=200, help="requests per latency series (>= 200)")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again even if they fit")
    parser.add_argument("--concurrency", type=int, default=8, help="client processes for throughput")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the throughput run")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated measurement groups (default all): {', '.join(GROUPS)}",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=100_000,
        help="rows imported, and customers of the import/export database (default 100,000)",
    )
    args = parser.parse_args(argv)
    args.groups = {g.strip() for g in args.only.split(",") if g.strip()}
    if not args.groups or args.groups - set(GROUPS):
        parser.error(f"--only: choose among {', '.join(GROUPS)}")
    if args.import_rows < 100:
        parser.error("--import-rows must be at least 100")
    if args.customers < 100:
        parser.error("--customers must be at least 100")
    if args.requests < 1:
        parser.error("--requests must be positive")
    return args


def pick(values: list[Any], n: int) -> tuple[list[Any], list[Any], str]:
    """(warm-up values, measured values, note): distinct values while they last, then repeated."""
    warm, rest = values[:WARMUP], values[WARMUP:]
    if not rest:
        rest, warm = values, values[:WARMUP]
    note = ""
    if len(rest) < n:
        note = f"only {len(rest)} distinct values: repeated to {n} requests"
        rest = [rest[i % len(rest)] for i in range(n)] if rest else []
    return warm, rest[:n], note


def search_result(engine: str, name: str, group: str, target_ms: float) -> Result:
    return Result(engine, name, group, f"p95 <= {target_ms:g} ms")


def run_searches(client: Client, engine: str, queries: dict[str, list[Query]], n: int) -> list[Result]:
    results = []
    for name, group, kind, target in SEARCHES:
        result = search_result(engine, name, group, target)
        warm, measured, note = pick(queries.get(kind, []), n)
        if note:
            result.notes.append(note)
        result.queries = [q.text for q in measured[:5]]
        calls = [Call("GET", q.path, expect=q.expect) for q in measured]
        series(client, result, calls, warmup=[Call("GET", q.path) for q in warm])
        if result.found is not None and result.n:
            result.notes.append(f"sampled customer on page 1: {100 * result.found / result.n:.0f}%")
        results.append(judge(result, max_p95=target))
        report_line(result)
    return results


VISIBILITY_FACTOR = 1.3  # a restricted user's p95 may be at most this multiple of the admin's
VISIBILITY_SERIES = (
    "search number",
    "search phone",
    "search email",
    "search name prefix",
    "search name substring",
)


def run_visibility(
    server: Any,
    engine: str,
    queries: dict[str, list[Query]],
    n: int,
    prep: dict[str, Any],
    admin: list[Result],
) -> list[Result]:
    """The same searches and an API list page as a representative, a middle manager and the head of a
    9-level, 2,000-user organisation, judged against the administrator's (unfiltered) p95."""
    hierarchy = prep.get("hierarchy") or {}
    results: list[Result] = []
    admin_p95 = {r.name: r.p95_ms for r in admin}
    list_path = "/api/v1/customers/?status=active"
    admin_client = Client(server.host, server.port, token=prep["token"])
    try:
        base = Result(engine, "API list ?status=active", "page", f"p95 <= {PAGE_P95:g} ms")
        calls = [Call("GET", list_path) for _ in range(n)]
        series(admin_client, base, calls, warmup=calls[:WARMUP])
        judge(base, max_p95=PAGE_P95)
        report_line(base)
        results.append(base)
        admin_p95[base.name] = base.p95_ms
    finally:
        admin_client.close()
    for label in ("rep", "middle", "head"):
        who = hierarchy.get(label)
        if not who:
            continue
        client = Client(server.host, server.port, token=who["token"])
        try:
            for name, _group, kind, _target in [*SEARCHES, (base.name, "page", "", 0.0)]:
                if name not in VISIBILITY_SERIES and name != base.name:
                    continue
                reference = admin_p95.get(name)
                limit = round(VISIBILITY_FACTOR * reference, 2) if reference else None
                result = Result(
                    engine,
                    f"{name} as {label}",
                    "visibility",
                    f"p95 <= {VISIBILITY_FACTOR:g} x admin" + (f" = {limit} ms" if limit else ""),
                )
                result.notes.append(f"{who['username']} sees {who['customers']:,} customers")
                if kind:
                    warm, measured, _note = pick(queries.get(kind, []), n)
                    calls = [Call("GET", q.path) for q in measured]
                    warmup = [Call("GET", q.path) for q in warm]
                else:
                    calls = [Call("GET", list_path) for _ in range(n)]
                    warmup = calls[:WARMUP]
                series(client, result, calls, warmup=warmup)
                judge(result, max_p95=limit if limit else PAGE_P95)
                report_line(result)
                results.append(result)
        finally:
            client.close()
    return results


def report_line(r: Result) -> None:
    figures = f"p50 {r.p50_ms} ms, p95 {r.p95_ms} ms" if r.p95_ms is not None else ""
    if r.value is not None:
        figures = f"{r.value:,.0f} {r.unit}" + (f", {figures}" if figures else "")
    extra = f", {r.errors} errors" if r.errors else ""
    print(f"    {r.name:<26} {r.status or '-':<8} {figures}{extra}", flush=True)
    for ex in r.examples[:1]:
        print(f"      e.g. {ex}")


def run_engine(engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    from bench.server import WORKERS, Gunicorn

    groups: set[str] = args.groups
    print(f"\n== {engine.name} ==")
    load_before = busy_machine_warning()
    engine.info["version"] = engine.server_version()
    results: list[Result] = []
    record: dict[str, Any] = {
        "engine": engine.name,
        "version": engine.info.get("version"),
        "database_url": engine.database_url,
        "groups": sorted(groups),
    }
    created: list[str] = []
    n = args.requests
    prep: dict[str, Any] = {}
    queries: dict[str, list[Query]] = {}
    main_db = {"http", "duplicates", "sales"}
    if groups & main_db:  # the main database (N customers)
        built = build(engine, args.customers, rebuild=args.rebuild)
        record["build"] = built
        demo = Result(engine.name, "demo build", "build", f">= {MIN_DEMO_RATE:,.0f} customers/s")
        demo.value, demo.unit, demo.n = built.get("customers_per_s"), "customers/s", args.customers
        if built.get("customers_per_s_reported_by_demo"):
            demo.notes.append(
                f"wall clock incl. process start; kith demo itself reports"
                f" {built['customers_per_s_reported_by_demo']:,.0f}/s"
            )
        if built.get("reused"):
            demo.notes.append(f"from the build of {built.get('built_at')} (database reused)")
        results.append(judge(demo, min_value=MIN_DEMO_RATE))
    if "http" in groups:
        sample = max(2000, 3 * (args.requests + WARMUP))
        print(f"  preparing the bench user, token and {sample:,} sampled customers ...")
        started = time.perf_counter()
        prep = prepare(engine, sample=sample, busy=BUSY_CUSTOMERS)
        print(f"    done in {time.perf_counter() - started:.1f} s; totals: {prep['totals']}")
        added = prep.get("busy_added") or {}
        if added.get("interactions"):
            print(
                f"    {added['customers']} customers topped up to >= {BUSY_ENTRIES} timeline entries:"
                f" {added['interactions']:,} interactions via interaction_create in {added['seconds']} s"
            )
        queries = build_queries(prep["customers"])
        record["totals"] = prep["totals"]
        record["busy_customers"] = {
            "source": prep["busy_source"],
            "min_entries": min((b["entries"] for b in prep["busy"]), default=0),
            "max_entries": max((b["entries"] for b in prep["busy"]), default=0),
            "count": len(prep["busy"]),
            "added_this_run": prep.get("busy_added"),
        }
    duplicates: dict[str, Any] = {}
    if "duplicates" in groups:
        print("  duplicates (scans in process, on this database):", flush=True)
        scan_results, duplicates = duplicate_scans(engine)
        results += scan_results
        record["duplicates"] = {k: v for k, v in duplicates.items() if k != "token"}
    sales: dict[str, Any] = {}
    if "sales" in groups:
        print("  sales data (open opportunities on the default pipeline):", flush=True)
        sales = workload(
            engine, "sales", "sales data", "--open", str(SALES_OPEN), "--lines", str(SALES_LINES)
        )
        record["sales"] = {k: v for k, v in sales.items() if k != "token"}
        print(f"    {sales['open']:,} open ({sales['added']:,} added in {sales['seconds']} s)")
        lines = sales.get("consumption") or {}
        if lines:
            print(
                f"    {lines['lines']:,} consumption lines ({lines['added']:,} added in {lines['seconds']} s)"
            )
    if groups & main_db:
        with Gunicorn(engine) as server:
            token = prep.get("token") or duplicates.get("token", "") or sales.get("token", "")
            api = Client(server.host, server.port, token=token)
            web = Client(server.host, server.port)
            try:
                if "http" in groups:
                    results += http_series(server, api, web, engine, args, prep, queries, created)
                if "duplicates" in groups:
                    print("  duplicates report:", flush=True)
                    if "sessionid" not in web.cookies:
                        with contextlib.suppress(BenchError):
                            web.login(BENCH_USERNAME, BENCH_PASSWORD)
                    results += duplicate_pages(web, api, engine.name, n, duplicates.get("open_pairs", 0))
                if "sales" in groups:
                    print("  sales pages:", flush=True)
                    results += sales_pages(server, engine.name, n, sales)
            except BenchError as exc:
                raise BenchError(f"{exc}\n  gunicorn's log:\n{server.log_tail()}") from exc
            finally:
                api.close()
                web.close()
        record["server"] = f"gunicorn config.wsgi, {WORKERS} sync workers (no keep-alive), DEBUG off"
    if "http" in groups:
        print("  audit trail overhead (services, in process):", flush=True)
        http_create = next((r.p95_ms for r in results if r.name == "create customer (API)"), None)
        results += run_audit_overhead(engine, n, http_create)
    if groups & {"import", "export"}:
        print(f"  import and export ({args.import_rows:,} customers, a database of their own):", flush=True)
        results += import_export(engine, groups=groups, rows=args.import_rows, rebuild=args.rebuild)
    load_after = busy_machine_warning()
    cleanup(engine, created)
    record["load_average"] = {"before": load_before, "after": load_after}
    record["results"] = [r.as_dict() for r in results]
    return record


def http_series(
    server: Any,
    api: Client,
    web: Client,
    engine: Engine,
    args: argparse.Namespace,
    prep: dict[str, Any],
    queries: dict[str, list[Query]],
    created: list[str],
) -> list[Result]:
    """Searches, list and customer pages, create, visibility and the search throughput, over HTTP."""
    n = args.requests
    results: list[Result] = []
    print("  latency series:")
    searches = run_searches(api, engine.name, queries, n)
    results += searches
    results.append(web_list(web, engine.name, prep, n))
    results += customer_pages(web, api, engine.name, prep, n)
    results.append(create(api, engine.name, n, created))
    print("  visibility (9-level, 2,000-user organisation):")
    results += run_visibility(server, engine.name, queries, n, prep, searches)
    mixed = [q.path for kind in ("number", "phone", "name_prefix") for q in queries.get(kind, [])]
    random.Random(5).shuffle(mixed)
    tp = Result(engine.name, "search API throughput", "throughput", f">= {MIN_RPS:,.0f} req/s")
    print(f"  throughput: {args.concurrency} clients for {args.seconds:.0f} s ...", flush=True)
    throughput(
        server.host,
        server.port,
        prep["token"],
        mixed,
        tp,
        concurrency=args.concurrency,
        seconds=args.seconds,
    )
    results.append(judge(tp, min_value=MIN_RPS))
    report_line(tp)
    return results


def run_audit_overhead(engine: Engine, n: int, http_create_p95: float | None) -> list[Result]:
    """Create and update through the services, audited and with the audit suppressed, interleaved: the
    audited p95 must stay within 1.2x (writing audit entries costs under 20%). Judged in process, where
    the audit's share is largest; the note also sets the added milliseconds against the API create p95."""
    figures = audit_overhead(engine, count=n)
    results = []
    for action in ("create", "update"):
        on, off = figures[f"{action} on"], figures[f"{action} off"]
        limit = round(AUDIT_OVERHEAD * off["p95_ms"], 2)
        result = Result(
            engine.name,
            f"{action} with audit (service)",
            "audit",
            f"p95 <= {AUDIT_OVERHEAD:g} x without = {limit} ms",
        )
        result.n, result.p50_ms, result.p95_ms = on["n"], on["p50_ms"], on["p95_ms"]
        overhead = 100 * (on["p95_ms"] / off["p95_ms"] - 1) if off["p95_ms"] else 0.0
        result.notes.append(
            f"without audit: p50 {off['p50_ms']} ms, p95 {off['p95_ms']} ms; p95 overhead {overhead:+.0f}%"
        )
        if action == "create" and http_create_p95:
            added = on["p95_ms"] - off["p95_ms"]
            result.notes.append(
                f"the {added:.2f} ms added are {100 * added / http_create_p95:.0f}% of the API create p95"
                f" ({http_create_p95} ms)"
            )
        judge(result, max_p95=limit)
        report_line(result)
        results.append(result)
    return results


def busy_machine_warning() -> list[float]:
    """The 1/5/15-minute load averages; a warning when other work already keeps the CPUs busy."""
    load = [round(x, 2) for x in os.getloadavg()]
    cpus = os.cpu_count() or 1
    if load[0] > 0.5 * cpus:
        print(
            f"  warning: load average {load[0]} on {cpus} CPUs: other work is running, figures will be noisy"
        )
    return load


def web_list(web: Client, engine: str, prep: dict[str, Any], n: int) -> Result:
    result = Result(engine, "web list ?status=active", "page", f"p95 <= {PAGE_P95:g} ms")
    try:
        web.login(prep["username"], prep["password"])
    except BenchError as exc:
        result.status = "missing" if "404" in str(exc) else "error"
        result.notes.append(str(exc))
        report_line(result)
        return result
    calls = [Call("GET", "/customers/?status=active", accept="text/html") for _ in range(n)]
    series(web, result, calls, warmup=calls[:WARMUP])
    judge(result, max_p95=PAGE_P95)
    report_line(result)
    return result


def customer_pages(web: Client, api: Client, engine: str, prep: dict[str, Any], n: int) -> list[Result]:
    busy = prep["busy"]
    heavy = [b for b in busy if b["entries"] >= BUSY_ENTRIES] or busy
    warm, measured, repeat = pick(heavy, n)
    counts = sorted({b["entries"] for b in measured})
    distinct = len({b["customer_number"] for b in measured})
    note = (
        f"{distinct} customers with {counts[0]}"
        + (f"-{counts[-1]}" if counts[-1] != counts[0] else "")
        + f" {prep['busy_source']} each"
        if counts
        else "no customers with timeline entries"
    )
    if counts and counts[-1] < BUSY_ENTRIES:
        note += f" (none has >= {BUSY_ENTRIES})"
    results = []
    for name, client, path, accept in (
        ("customer page (web)", web, "/customers/{}/", "text/html"),
        ("customer page (API)", api, "/api/v1/customers/{}/page/", "application/json"),
    ):
        result = Result(engine, name, "page", f"p95 <= {PAGE_P95:g} ms")
        result.notes += [note] + ([repeat] if repeat else [])
        if client is web and "sessionid" not in web.cookies:
            result.status = "skipped"
            result.notes.append("no session: the web login failed")
        else:
            calls = [Call("GET", path.format(b["customer_number"]), accept=accept) for b in measured]
            warmup = [Call("GET", path.format(b["customer_number"]), accept=accept) for b in warm]
            series(client, result, calls, warmup=warmup)
            judge(result, max_p95=PAGE_P95)
        report_line(result)
        results.append(result)
    return results


def create(api: Client, engine: str, n: int, created: list[str]) -> Result:
    result = Result(engine, "create customer (API)", "create", f"p95 <= {CREATE_P95:g} ms")
    run = f"{random.randrange(16**6):06x}"
    rng = random.Random(run)

    def payload(i: int) -> dict[str, Any]:
        return {
            "kind": "person",
            "family_name": "Benchmark",
            "given_name": f"Create{run}{i:04d}",
            "phones": [{"number": f"+86139{rng.randrange(10**8):08d}", "label": "mobile"}],
            "emails": [{"address": f"bench-{run}-{i}@example.com"}],
        }

    calls = [json_call("POST", "/api/v1/customers/", payload(i)) for i in range(n + WARMUP)]

    measured = {id(c) for c in calls[WARMUP:]}
    not_201: list[str] = []

    def remember(call: Call, reply: Any) -> None:
        number = number_from_reply(reply) if reply.status == 201 else ""
        if number:
            created.append(number)
        elif reply.ok and id(call) in measured:
            not_201.append(f"POST /api/v1/customers/ -> {reply.status}: {reply.snippet(200)}")

    series(api, result, calls[WARMUP:], warmup=calls[:WARMUP], on_reply=remember)
    if not_201:  # the contract is 201 Created with the new customer's number
        result.errors += len(not_201)
        result.examples += not_201[:2]
        result.notes.append(f"{len(not_201)} answers were 2xx but not 201 with a customer_number")
    judge(result, max_p95=CREATE_P95)
    report_line(result)
    return result


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    names = [e.strip() for e in args.engines.split(",") if e.strip()]
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": machine_info(),
        "args": {**vars(args), "groups": sorted(args.groups)},
        "engines": [],
    }
    failed = False
    try:
        for name in names:
            try:
                engine = make_engine(name)
            except BenchError as exc:  # an unknown name, or PostgreSQL with KITH_BENCH_DATA_DIR set
                failed = failed or name != "postgres"
                print(f"\n== {name} == {'skipped' if name == 'postgres' else 'FAILED'}: {exc}")
                report["engines"].append(
                    {"engine": name, "skipped" if name == "postgres" else "error": str(exc)}
                )
                continue
            if name == "postgres" and not postgres_reachable():
                print("\n== postgres == skipped: nothing answers on 127.0.0.1:5432")
                report["engines"].append({"engine": name, "skipped": "PostgreSQL not reachable"})
                continue
            try:
                report["engines"].append(run_engine(engine, args))
            except BenchError as exc:
                failed = True
                print(f"\n  {engine.name}: FAILED: {exc}")
                report["engines"].append({"engine": name, "error": str(exc)})
            except Exception as exc:  # a bug or an answer of unexpected shape: say where, go on
                failed = True
                where = traceback.extract_tb(exc.__traceback__)[-1]
                message = f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
                print(f"\n  {engine.name}: FAILED unexpectedly: {message}")
                report["engines"].append({"engine": name, "error": message})
    except KeyboardInterrupt:
        print("\ninterrupted: gunicorn was stopped; nothing written", file=sys.stderr)
        sys.exit(130)
    rows = [r for e in report["engines"] for r in e.get("results", [])]
    for e in report["engines"]:
        if "error" in e or "skipped" in e:
            why = str(e.get("error") or e.get("skipped")).splitlines()[0]
            status = "error" if "error" in e else "skipped"
            rows.append(
                {"engine": e["engine"], "name": "(engine)", "target": "-", "status": status, "notes": [why]}
            )
    report["summary"] = {
        status: sum(1 for r in rows if r.get("status") == status)
        for status in ("pass", "fail", "error", "missing", "skipped")
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "latest.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    print()
    title = (
        f"{args.customers:,} customers"
        if args.groups & {"http", "duplicates", "sales"}
        else f"import/export on {args.import_rows:,} customers"
    )
    print_table(rows, title)
    print(f"\nwritten: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    # Missed targets are results; requests that failed or pages that are missing are not.
    if failed or any(r.get("status") in ("error", "missing") or r.get("errors") for r in rows):
        print("some measurements could not be made (errors or missing endpoints): see above", file=sys.stderr)
        sys.exit(2)
