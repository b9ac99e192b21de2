"""Runs inside Django (a subprocess with DATABASE_URL set): the bench's background-job workloads.

``python -m bench.workloads export --out FILE``
    every customer of the database exported to CSV (default columns) by the real export job, as the
    superuser ``bench``: wall clock of the job run, rows/s; the file is checked and deleted
``python -m bench.workloads import --out FILE --rows N [--duplicate-share 0.1] [--seed S]``
    a CSV of N generated rows like another CRM's export (persons and companies with phones, emails,
    addresses, birthdays, tags), a share of them duplicating customers already in the database by
    phone or email (half of those with a changed field), imported by the real import job with the
    default options (exact match: update, close name: skip): wall clock of the job run, rows/s, the
    outcome of every row
``python -m bench.workloads duplicates --out FILE [--touch 1000] [--sample 2000] [--full-limit 300]``
    the duplicates scan on the database as it is: the rate of ``scan`` on a sample spread over the ids,
    ``scan_changed`` after touching ``--touch`` customers, and a full ``run_scan_all`` job when the
    sample says it ends within ``--full-limit`` seconds (else not run, with the estimate)
``python -m bench.workloads sales --out FILE [--open 10000] [--lines 10000000]``
    the sales data the sales pages are measured on: ``--open`` open opportunities on the default
    pipeline (added with bulk inserts, once per database, each owned by its customer's owner in the
    bench organisation), the board's path, and a middle manager of the organisation who may sign in;
    ``--lines`` consumption lines over the last two years (raw bulk inserts, once per database: 1% of
    the customers hold 200 lines each, the others about 8), 200 bench products, a tag on exactly
    10,000 customers spread over the ids (the group measured), and the statistics page's paths
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import time
import unicodedata
from pathlib import Path
from typing import Any

from bench.prepare import _bench_user, _django

IMPORT_COLUMNS = {  # header of the generated file -> import target (an explicit mapping, no guessing)
    "Type": "kind",
    "First Name": "given_name",
    "Last Name": "family_name",
    "Company": "legal_name",
    "Employer": "company_name",
    "Job Title": "job_title",
    "Mobile Phone": "phone:mobile",
    "Business Phone": "phone:work",
    "E-mail Address": "email:work",
    "E-mail 2 Address": "email:home",
    "Street": "address:work:street",
    "City": "address:work:city",
    "ZIP": "address:work:postal_code",
    "State": "address:work:region",
    "Country": "address:work:country",
    "Birthday": "birth_date",
    "Web Page": "website",
    "Notes": "notes",
    "Categories": "tags",
}
LOCALES = [
    ("en_US", "US", 30),
    ("de_DE", "DE", 20),
    ("en_GB", "GB", 15),
    ("zh_CN", "CN", 20),
    ("fr_FR", "FR", 10),
]
TAGS = ["VIP", "Newsletter", "Trade fair 2025", "Key account", "Reseller"]
JOBS = ["Buyer", "Purchasing Manager", "CEO", "Office Manager", "Engineer", "Accountant", "Sales Director"]
US_AREAS = ["212", "213", "305", "312", "404", "415", "512", "617", "702", "808"]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _phone(rng: random.Random, country: str, *, mobile: bool) -> str:
    """A possible number of ``country``, written the way people write them (with or without +code)."""
    d = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    if country == "US":
        number = f"({rng.choice(US_AREAS)}) {rng.randint(2, 9)}{d(2)}-{d(4)}"
        return number if rng.random() < 0.5 else f"+1 {number}"
    if country == "DE":
        return f"+49 15{rng.choice('12579')} {d(8)}" if mobile else f"+49 30 {d(8)}"
    if country == "GB":
        return f"+44 7{rng.choice('4589')}{d(2)} {d(6)}" if mobile else f"+44 20 {d(4)} {d(4)}"
    if country == "CN":
        return f"+86 13{rng.randrange(10)} {d(4)} {d(4)}" if mobile else f"+86 10 {d(4)} {d(4)}"
    return f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}" if mobile else f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}"


def _new_row(i: int, rng: random.Random, fakers: dict[str, Any]) -> dict[str, str]:
    locale, country, _weight = rng.choices(LOCALES, weights=[w for *_x, w in LOCALES])[0]
    fake = fakers[locale]
    row = dict.fromkeys(IMPORT_COLUMNS, "")
    row["Street"], row["City"], row["ZIP"], row["Country"] = (
        fake.street_address().replace("\n", ", "),
        fake.city(),
        fake.postcode(),
        country,
    )
    domain = f"{_ascii(fake.last_name()) or 'mail'}.example.com"
    if rng.random() < 0.7:
        given, family = fake.first_name(), fake.last_name()
        handle = f"{_ascii(given) or 'p'}.{_ascii(family) or 'x'}.{i}"
        row.update(
            {
                "Type": "person",
                "First Name": given,
                "Last Name": family,
                "Employer": fake.company() if rng.random() < 0.4 else "",
                "Job Title": rng.choice(JOBS) if rng.random() < 0.4 else "",
                "Mobile Phone": _phone(rng, country, mobile=True),
                "Business Phone": _phone(rng, country, mobile=False) if rng.random() < 0.3 else "",
                "E-mail Address": f"{handle}@{domain}",
                "E-mail 2 Address": f"{handle}@home.example.net" if rng.random() < 0.2 else "",
                "Birthday": fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat()
                if rng.random() < 0.6
                else "",
            }
        )
    else:
        name = fake.company()
        row.update(
            {
                "Type": "company",
                "Company": name,
                "Business Phone": _phone(rng, country, mobile=False),
                "E-mail Address": f"info.{i}@{_ascii(name)[:20] or 'company'}.example.com",
                "Web Page": f"https://www.{_ascii(name)[:20] or 'company'}{i}.example.com",
            }
        )
    if rng.random() < 0.2:
        row["Categories"] = "; ".join(rng.sample(TAGS, rng.randint(1, 2)))
    if rng.random() < 0.1:
        row["Notes"] = "Met at the trade fair; wants a quote."
    return row


def _duplicate_rows(count: int, rng: random.Random) -> list[dict[str, str]]:
    """Rows naming ``count`` customers already in the database by one phone or email that only they
    have (half of them written differently: the phone spaced out, the email in capitals), with the same
    names; every second one changes a field (job title or web site, and the city)."""
    import phonenumbers
    from django.db.models import Count, Max, Min

    from kith.parties.models import Customer, Email, Phone

    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None or count <= 0:
        return []
    lo, hi = bounds["lo"], bounds["hi"]
    unique_phones = Phone.objects.values("number_index").annotate(n=Count("id")).filter(n=1)
    unique_emails = Email.objects.values("address_key").annotate(n=Count("id")).filter(n=1)
    rows: list[dict[str, str]] = []
    step = max(1, (hi - lo + 1) // (count * 2))
    ids = list(range(lo, hi + 1, step))
    rng.shuffle(ids)
    for start in range(0, len(ids), 900):
        if len(rows) >= count:
            break
        chunk = ids[start : start + 900]
        people = {
            c["id"]: c
            for c in Customer.objects.filter(pk__in=chunk, merged_into__isnull=True).values(
                "id", "kind", "given_name", "family_name", "legal_name", "display_name"
            )
        }
        phones: dict[int, str] = {}
        for cid, number in Phone.objects.filter(
            customer_id__in=list(people), number_index__in=unique_phones.values("number_index")
        ).values_list("customer_id", "number"):
            phones.setdefault(cid, number)
        emails: dict[int, str] = {}
        for cid, address in Email.objects.filter(
            customer_id__in=list(people), address_key__in=unique_emails.values("address_key")
        ).values_list("customer_id", "address"):
            emails.setdefault(cid, address)
        for cid, c in people.items():
            if len(rows) >= count:
                break
            by_phone = cid in phones and (cid not in emails or rng.random() < 0.5)
            if not by_phone and cid not in emails:
                continue
            row = dict.fromkeys(IMPORT_COLUMNS, "")
            row["Type"] = c["kind"]
            if c["kind"] == "person":
                row["First Name"], row["Last Name"] = c["given_name"], c["family_name"]
            else:
                row["Company"] = c["legal_name"] or c["display_name"]
            if by_phone:
                number = phones[cid]
                if rng.random() < 0.5:  # "+86 138 0013 8000" for "+8613800138000"
                    number = phonenumbers.format_number(
                        phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL
                    )
                row["Mobile Phone" if c["kind"] == "person" else "Business Phone"] = number
            else:
                address = emails[cid]
                row["E-mail Address"] = address.upper() if rng.random() < 0.5 else address
            if len(rows) % 2 == 0:
                if c["kind"] == "person":
                    row["Job Title"] = rng.choice(JOBS) + " (changed)"
                else:
                    row["Web Page"] = f"https://changed-{cid}.example.com"
                row["City"] = "Springfield"
            rows.append(row)
    return rows


def generate_import_file(path: Path, rows: int, share: float, seed: int) -> dict[str, int]:
    """Write the file; return how many rows are new and how many name a customer already there."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for locale, *_rest in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)
    duplicates = _duplicate_rows(round(rows * share), rng)
    body = duplicates + [_new_row(i, rng, fakers) for i in range(rows - len(duplicates))]
    rng.shuffle(body)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(IMPORT_COLUMNS))
        writer.writeheader()
        writer.writerows(body)
    return {"rows": len(body), "new": len(body) - len(duplicates), "duplicates": len(duplicates)}


def run_import(out: Path, rows: int, share: float, seed: int) -> None:
    _django()
    from django.contrib.auth import get_user_model

    from kith.jobs import services as jobs
    from kith.jobs.models import Job
    from kith.parties.imports import services as imports
    from kith.parties.models import Customer

    _bench_user()
    actor = get_user_model().objects.get(username="bench")
    path = Path(out).with_suffix(".csv")
    started = time.perf_counter()
    made = generate_import_file(path, rows, share, seed)
    generated_s = time.perf_counter() - started
    with path.open("rb") as handle:
        upload = imports.save_upload(iter(lambda: handle.read(1 << 20), b""), filename=path.name)
    before = Customer.objects.count()
    job = imports.start_import(
        actor=actor,
        upload=upload,
        filename=path.name,
        options=imports.Options(mapping=dict(IMPORT_COLUMNS)),
        source="cli",
        enqueue=False,
    )
    started = time.perf_counter()
    jobs.run(job.pk)
    seconds = time.perf_counter() - started
    job = Job.objects.get(pk=job.pk)
    after = Customer.objects.count()
    result = dict(job.result or {})
    counts = {k: int(v) for k, v in (result.get("counts") or {}).items()}
    rejected_examples: list[str] = []
    rejected = jobs.file_path(job)
    if rejected is not None and rejected.exists():
        with rejected.open(encoding="utf-8-sig", newline="") as handle:
            for i, line in enumerate(csv.DictReader(handle)):
                if i >= 3:
                    break
                rejected_examples.append(f"row {line.get('row')}: {line.get('reason')}")
        rejected.unlink()
    path.unlink(missing_ok=True)
    imports.upload_path(upload).unlink(missing_ok=True)  # the uploaded copy (the import DB is a copy too)
    out.write_text(
        json.dumps(
            {
                "status": job.status,
                "message": job.message,
                "seconds": round(seconds, 3),
                "rows": made["rows"],
                "new_rows": made["new"],
                "duplicate_rows": made["duplicates"],
                "generated_s": round(generated_s, 1),
                "counts": counts,
                "rows_reported": result.get("rows"),
                "accounted": sum(counts.values()),
                "customers_before": before,
                "customers_after": after,
                "rejected_examples": rejected_examples,
            }
        )
    )


def run_export(out: Path) -> None:
    _django()
    from django.contrib.auth import get_user_model

    from kith.jobs import services as jobs
    from kith.jobs.models import Job
    from kith.parties.models import Customer
    from kith.parties.services.exports import DEFAULT_COLUMNS, start_customer_export

    _bench_user()
    actor = get_user_model().objects.get(username="bench")
    expected = Customer.objects.filter(merged_into__isnull=True).count()
    job = start_customer_export(actor=actor, filters={}, file_format="csv", source="cli", enqueue=False)
    started = time.perf_counter()
    jobs.run(job.pk)
    seconds = time.perf_counter() - started
    job = Job.objects.get(pk=job.pk)
    path = jobs.file_path(job)
    lines = 0
    if path is not None and path.exists():
        with path.open(encoding="utf-8-sig", newline="") as handle:
            lines = sum(1 for _row in csv.reader(handle)) - 1
        size = path.stat().st_size
        path.unlink()
    else:
        size = 0
    out.write_text(
        json.dumps(
            {
                "status": job.status,
                "message": job.message,
                "seconds": round(seconds, 3),
                "rows": (job.result or {}).get("rows"),
                "file_rows": lines,
                "file_bytes": size,
                "expected": expected,
                "columns": list(DEFAULT_COLUMNS),
            }
        )
    )


def run_duplicates(out: Path, touch: int, sample: int, full_limit: float) -> None:
    _django()
    from django.contrib.auth import get_user_model
    from django.db.models import Max, Min
    from django.utils import timezone

    from kith.audit.capture import suppressed
    from kith.core.settings_store import set_setting
    from kith.jobs import services as jobs
    from kith.jobs.models import Job
    from kith.parties.models import Customer, DuplicateCandidate
    from kith.parties.services import duplicates

    token = _bench_user()
    actor = get_user_model().objects.get(username="bench")
    live = Customer.objects.filter(merged_into__isnull=True)
    total = live.count()
    bounds = live.aggregate(lo=Min("id"), hi=Max("id"))
    lo, hi = bounds["lo"] or 0, bounds["hi"] or 0

    def spread(k: int, offset: int) -> list[int]:
        """``k`` live ids spread evenly over the id range (the same ones on every run)."""
        wanted = sorted({lo + (hi - lo + 1) * i // max(k, 1) + offset for i in range(k)})
        found: list[int] = []
        for start in range(0, len(wanted), 900):
            found += live.filter(pk__in=wanted[start : start + 900]).values_list("pk", flat=True)
        return sorted(found)

    report: dict[str, Any] = {"customers": total, "token": token}
    # 1. the rate of the scan on a sample: what a full scan would take
    ids = spread(sample, 0)
    started = time.perf_counter()
    duplicates.scan(ids)
    sample_s = time.perf_counter() - started
    rate = len(ids) / sample_s if sample_s else 0.0
    report["sample"] = {"customers": len(ids), "seconds": round(sample_s, 3), "per_s": round(rate, 1)}
    estimate = total / rate if rate else None
    report["full_estimate_s"] = round(estimate, 1) if estimate else None
    # 2. the incremental scan after touching customers (a raw timestamp change, not a business edit)
    set_setting(duplicates.WATERMARK, timezone.now().isoformat())
    time.sleep(0.01)
    touched = spread(touch, 1)
    with suppressed():
        for start in range(0, len(touched), 900):
            Customer.objects.filter(pk__in=touched[start : start + 900]).update(updated_at=timezone.now())
    started = time.perf_counter()
    new_pairs = duplicates.scan_changed()
    report["incremental"] = {
        "touched": len(touched),
        "seconds": round(time.perf_counter() - started, 3),
        "new_pairs": new_pairs,
    }
    # 3. the full scan, when the sample says it ends in time
    if estimate is not None and estimate <= full_limit:
        # the job ``start_scan_all`` queues, run by this process (no worker serves the bench database)
        job = jobs.start(duplicates.SCAN_KIND, actor=actor, params={}, source="cli", enqueue=False)
        started = time.perf_counter()
        jobs.run(job.pk)
        job = Job.objects.get(pk=job.pk)
        report["full"] = {
            "status": job.status,
            "seconds": round(time.perf_counter() - started, 3),
            "result": job.result,
        }
    report["open_pairs"] = DuplicateCandidate.objects.filter(status="open").count()
    out.write_text(json.dumps(report, default=str))


BENCH_DEAL = "Bench deal "  # the names of the opportunities the bench adds


def run_sales(out: Path, open_count: int, lines: int) -> None:
    _django()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import Max, Min
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from bench.prepare import BENCH_PASSWORD, _hierarchy, services_reach
    from kith.parties.models import Customer
    from kith.sales.models import Opportunity, Pipeline, Stage

    token = _bench_user()
    hierarchy = _hierarchy()
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        raise SystemExit("no pipeline: migrate the database")
    stages = list(Stage.objects.filter(pipeline=pipeline, kind="open").order_by("position"))
    have = Opportunity.objects.filter(pipeline=pipeline, status="open", name__startswith=BENCH_DEAL).count()
    started = time.perf_counter()
    added = 0
    if have < open_count:
        live = Customer.objects.filter(merged_into__isnull=True, status__in=["active", "prospect"])
        bounds = live.aggregate(lo=Min("id"), hi=Max("id"))
        lo, hi = bounds["lo"] or 0, bounds["hi"] or 0
        want = open_count - have
        rng = random.Random(7)
        wanted = sorted({lo + (hi - lo + 1) * i // max(want * 2, 1) + have for i in range(want * 2)})
        customers: list[tuple[int, int | None]] = []
        for start in range(0, len(wanted), 900):
            customers += live.filter(pk__in=wanted[start : start + 900]).values_list("pk", "owner_id")
        customers = customers[:want]
        now = timezone.now()
        rows = []
        for i, (customer_id, owner_id) in enumerate(customers, start=have):
            stage = stages[rng.randrange(len(stages))]
            rows.append(
                Opportunity(
                    name=f"{BENCH_DEAL}{i}",
                    customer_id=customer_id,
                    owner_id=owner_id,
                    pipeline=pipeline,
                    stage=stage,
                    status="open",
                    amount=Decimal(rng.randrange(100, 500_000)),
                    currency="EUR",
                    probability=stage.probability,
                    expected_close_date=(now + dt.timedelta(days=rng.randrange(1, 365))).date(),
                    stage_entered_at=now,
                )
            )
        with transaction.atomic():  # bulk rows: no audit entries (bench data, not business changes)
            Opportunity.objects.bulk_create(rows, batch_size=2000)
        added = len(rows)
    consumption = _consumption(lines) if lines else {}
    _settle()
    middle = get_user_model().objects.get(username=hierarchy["middle"]["username"])
    if not middle.has_usable_password():
        middle.set_password(BENCH_PASSWORD)
        middle.save(update_fields=["password"])
    try:
        board = reverse("sales:opportunity_board")
    except NoReverseMatch:
        board = ""
    report = {
        "token": token,
        "board": board,
        "pipeline": pipeline.pk,
        "open": Opportunity.objects.filter(pipeline=pipeline, status="open").count(),
        "added": added,
        "seconds": round(time.perf_counter() - started, 1),
        "middle": hierarchy["middle"]["username"],
        "middle_customers": hierarchy["middle"]["customers"],
        "consumption": consumption,
        "middle_open": Opportunity.objects.filter(
            pipeline=pipeline,
            status="open",
            owner_id__in=services_reach(middle),
        ).count(),
    }
    out.write_text(json.dumps(report, default=str))


def _settle() -> None:
    """PostgreSQL: vacuum and analyse the tables the sales pages read, as autovacuum would in a while on a
    live system. The bench rewrites every customer's owner and inserts ten million lines just before it
    measures; until a vacuum marks their pages all-visible, every index-only scan also reads the table.
    On tables already vacuumed this takes seconds."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        for table in (
            "parties_customer",
            "parties_customer_tags",
            "sales_consumptionline",
            "sales_opportunity",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"    vacuum (analyze) of the sales tables: {time.perf_counter() - started:.1f} s", flush=True)


BENCH_GROUP_TAG = "Bench group 10k"
HEAVY_SHARE, HEAVY_LINES = 100, 200  # every 100th customer holds 200 lines


def _consumption(total: int) -> dict[str, Any]:
    """``total`` consumption lines (about) once per database, the group tag and the paths measured."""
    from decimal import Decimal

    from django.db import connection, transaction
    from django.db.models import Max, Min
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from kith.parties.models import Customer, Tag
    from kith.sales.models import ConsumptionLine, Product

    started = time.perf_counter()
    live = Customer.objects.filter(merged_into__isnull=True)
    bounds = live.aggregate(lo=Min("id"), hi=Max("id"))
    lo, hi = bounds["lo"] or 0, bounds["hi"] or 0
    products = list(Product.objects.filter(sku__startswith="BENCH-").values_list("pk", "sku", "list_price"))
    if len(products) < 200:
        with transaction.atomic():
            Product.objects.bulk_create(
                [
                    Product(
                        sku=f"BENCH-{i:03d}",
                        name=f"Bench product {i}",
                        list_price=Decimal(5 + i),
                        currency="EUR",
                    )
                    for i in range(200)
                    if not Product.objects.filter(sku=f"BENCH-{i:03d}").exists()
                ]
            )
        products = list(
            Product.objects.filter(sku__startswith="BENCH-").values_list("pk", "sku", "list_price")
        )
    have = ConsumptionLine.objects.order_by().count()
    added = 0
    if have < total * 0.9:
        # Generated by the database itself (a Python loop over 10M rows takes a quarter of an hour):
        # per customer 200 lines (every 100th customer) or ``light`` +-3, each line's product, day,
        # quantity and kind drawn from a multiplicative hash of (customer, line).
        customers = hi - lo + 1
        light = max(4, round((total - customers // HEAVY_SHARE * HEAVY_LINES) / max(1, customers)))
        table = connection.ops.quote_name(ConsumptionLine._meta.db_table)
        customer_table = connection.ops.quote_name(Customer._meta.db_table)
        now = timezone.now().isoformat()
        first_day = timezone.localdate().isoformat()
        h = "((c.id * 7919 + k.i * 104729) % 1000003)"  # a pseudo-random number per (customer, line)
        quantity = f"(1 + {h} % 12) * (CASE WHEN {h} % 100 < 3 THEN -1 ELSE 1 END)"
        kind = (
            f"CASE WHEN {h} % 100 < 3 THEN 'return' WHEN {h} % 100 < 5 THEN 'non_product' ELSE 'purchase' END"
        )
        lines_of = f"CASE WHEN c.id % {HEAVY_SHARE} = 0 THEN {HEAVY_LINES} ELSE {light - 3} + c.id % 7 END"
        select = (
            f"SELECT c.id, {{day}}, CASE WHEN {h} % 100 BETWEEN 3 AND 4 THEN NULL ELSE p.id END, "  # noqa: S608
            f"CASE WHEN {h} % 100 BETWEEN 3 AND 4 THEN 'POST' ELSE p.sku END, '', {quantity}, p.price, "
            f"{quantity} * p.price, 'EUR', {kind}, 'import', '', {{now}} "
            f"FROM {customer_table} c JOIN k ON k.i < {lines_of} "
            f"JOIN bench_products p ON p.n = (c.id * 31 + k.i * 17) % 200 "
            f"WHERE c.merged_into_id IS NULL"
        )
        columns = (
            "customer_id, occurred_on, product_id, sku, description, quantity, unit_price, amount, currency, "
            "kind, source, reference, created_at"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_products (n INTEGER PRIMARY KEY, id BIGINT, sku TEXT, price NUMERIC)"
            )
            cursor.executemany(
                "INSERT INTO bench_products VALUES (%s, %s, %s, %s)",
                [(n, pk, sku, price) for n, (pk, sku, price) in enumerate(products[:200])],
            )
            if connection.vendor == "postgresql":
                day = f"DATE '{first_day}' - ({h} % 730)::int"
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) WITH k(i) AS (SELECT generate_series(0, {HEAVY_LINES - 1})) "
                    + select.format(day=day, now=f"TIMESTAMPTZ '{now}'")
                )
            else:
                day = f"date('{first_day}', '-' || ({h} % 730) || ' days')"
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 "  # noqa: S608
                    f"FROM k WHERE i < {HEAVY_LINES - 1}) " + select.format(day=day, now=f"'{now}'")
                )
            added = cursor.rowcount
            cursor.execute("DROP TABLE bench_products")
            cursor.execute(f"ANALYZE {table}")
    tag, _created = Tag.objects.get_or_create(name=BENCH_GROUP_TAG)
    through = Customer.tags.through
    if through.objects.filter(tag=tag).count() != 10_000:
        through.objects.filter(tag=tag).delete()
        wanted = sorted({lo + (hi - lo + 1) * i // 10_000 for i in range(10_000)})
        ids: list[int] = []
        for start in range(0, len(wanted), 900):
            ids += live.filter(pk__in=wanted[start : start + 900]).values_list("pk", flat=True)
        through.objects.bulk_create([through(customer_id=i, tag_id=tag.pk) for i in ids[:10_000]])
    start = lo + (hi - lo) // 2
    start += -start % HEAVY_SHARE  # the first heavy customer of the second half
    heavy_ids = list(range(start, hi + 1, HEAVY_SHARE))[:300]
    heavy = list(live.filter(pk__in=heavy_ids).order_by("pk").values_list("customer_number", flat=True))
    try:
        page = reverse("sales:consumption_stats")
    except NoReverseMatch:
        page = ""
    today = timezone.localdate()
    year_ago = today - dt.timedelta(days=364)
    window = f"period=month&from={year_ago.isoformat()}&to={today.isoformat()}"
    return {
        "lines": ConsumptionLine.objects.order_by().count(),
        "added": added,
        "seconds": round(time.perf_counter() - started, 1),
        "customer_paths": [f"{page}?customer={n}&{window}" for n in heavy] if page else [],
        "group_path": f"{page}?tag={BENCH_GROUP_TAG.replace(' ', '+')}&{window}" if page else "",
        "heavy_lines": HEAVY_LINES,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workloads")
    sub = parser.add_subparsers(dest="mode", required=True)
    p_import = sub.add_parser("import")
    p_import.add_argument("--out", type=Path, required=True)
    p_import.add_argument("--rows", type=int, default=100_000)
    p_import.add_argument("--duplicate-share", type=float, default=0.1)
    p_import.add_argument("--seed", type=int, default=4)
    p_export = sub.add_parser("export")
    p_export.add_argument("--out", type=Path, required=True)
    p_dup = sub.add_parser("duplicates")
    p_dup.add_argument("--out", type=Path, required=True)
    p_dup.add_argument("--touch", type=int, default=1000)
    p_dup.add_argument("--sample", type=int, default=2000)
    p_dup.add_argument("--full-limit", type=float, default=300.0)
    p_sales = sub.add_parser("sales")
    p_sales.add_argument("--out", type=Path, required=True)
    p_sales.add_argument("--open", type=int, default=10_000)
    p_sales.add_argument("--lines", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    if args.mode == "sales":
        run_sales(args.out, args.open, args.lines)
    elif args.mode == "import":
        run_import(args.out, args.rows, args.duplicate_share, args.seed)
    elif args.mode == "export":
        run_export(args.out)
    else:
        run_duplicates(args.out, args.touch, args.sample, args.full_limit)


if __name__ == "__main__":
    main()
