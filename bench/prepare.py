"""Runs inside Django (a subprocess with DATABASE_URL set): bench user and token, sampled query values, cleanup.

``python -m bench.prepare setup --out FILE --sample K --busy B``
    user ``bench`` + DRF token + sampled values (JSON) + B customers with >= 50 timeline entries (those
    with fewer are topped up to 55 through ``interaction_create``, once: a reused database keeps them)
``python -m bench.prepare cleanup --numbers FILE``
    delete the customers the create benchmark made
``python -m bench.prepare audit-overhead --out FILE --count N``
    the cost of the audit trail: N customer creates and N updates through the services with the audit
    trail on, N of each with it suppressed, interleaved; p50/p95 of each (JSON)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
from pathlib import Path
from typing import Any

BENCH_USERNAME = "bench"
BENCH_PASSWORD = "bench-Passw0rd-2468"  # noqa: S105 - a throwaway login on a throwaway benchmark database


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _bench_user() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(username=BENCH_USERNAME)
    user.is_active = True
    user.is_staff = True
    user.is_superuser = True
    user.set_password(BENCH_PASSWORD)
    user.save()
    token, _created = Token.objects.get_or_create(user=user)
    return str(token.key)


def _sample_customers(k: int, seed: int) -> list[dict[str, Any]]:
    """About ``k`` customers picked at random, with their phones and emails (no full-table sort)."""
    from django.db.models import Max, Min

    from kith.parties.models import Customer, Email, Phone

    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return []
    rng = random.Random(seed)
    lo, hi = bounds["lo"], bounds["hi"]
    fields = (
        "id",
        "customer_number",
        "kind",
        "display_name",
        "family_name",
        "given_name",
        "legal_name",
        "short_name",
        "status",
    )
    found: dict[int, dict[str, Any]] = {}
    for _round in range(6):
        wanted = min(k - len(found), hi - lo + 1)
        if wanted <= 0:
            break
        ids = {rng.randint(lo, hi) for _ in range(wanted * 2)} - set(found)
        id_list = list(ids)
        for start in range(0, len(id_list), 900):
            chunk = id_list[start : start + 900]
            for row in Customer.objects.filter(pk__in=chunk, merged_into__isnull=True).values(*fields):
                found[row["id"]] = row
    rows = list(found.values())[:k]
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        r["phones"] = []
        r["emails"] = []
    id_list = list(by_id)
    for start in range(0, len(id_list), 900):
        chunk = id_list[start : start + 900]
        for cid, number in Phone.objects.filter(customer_id__in=chunk).values_list("customer_id", "number"):
            by_id[cid]["phones"].append(number)
        for cid, address in Email.objects.filter(customer_id__in=chunk).values_list("customer_id", "address"):
            by_id[cid]["emails"].append(address)
    rng.shuffle(rows)
    return rows


# The customer page is measured with (at least) BUSY_MIN timeline entries; the demo gives each customer
# about ten, so the chosen customers are topped up to BUSY_TARGET through the real service.
BUSY_MIN = 50
BUSY_TARGET = 55
HISTORY_DAYS = 730
_KINDS = [  # (kind, channels, weight)
    ("call", ("phone", "video"), 30),
    ("email", ("email",), 25),
    ("visit", ("in_person",), 12),
    ("meeting", ("in_person", "video"), 10),
    ("customer_visit", ("in_person",), 6),
    ("complaint", ("phone", "email", "web"), 6),
    ("suggestion", ("web", "email", "chat"), 4),
    ("note", ("",), 7),
]
_SUBJECTS = {
    "call": "Call about {}",
    "email": "Email about {}",
    "visit": "Visit to discuss {}",
    "meeting": "Meeting on {}",
    "customer_visit": "Customer came in about {}",
    "complaint": "Complaint about {}",
    "suggestion": "Suggestion regarding {}",
    "note": "Note: {}",
}
_TOPICS = [
    "the new price list",
    "the annual contract",
    "delivery dates",
    "an invoice",
    "payment terms",
    "a quotation",
    "a replacement part",
    "the loyalty programme",
]
_CONTENTS = [
    "",
    "Customer asked for a written offer by the end of the month.",
    "Everything agreed; next contact in the new quarter.",
    "Needs approval from their finance department first.",
    "Mentioned a competitor's offer; send a better proposal.",
    "Asked about volume discounts for larger orders.",
]
_OUTCOMES = ["", "positive", "neutral", "negative", "resolved", "pending"]


def _interaction_data(rng: random.Random, now: dt.datetime) -> dict[str, Any]:
    """One plausible interaction somewhere in the past two years (the keys ``interaction_create`` takes)."""
    kind, channels, _weight = rng.choices(_KINDS, weights=[w for *_x, w in _KINDS])[0]
    occurred_at = now - dt.timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400))
    data: dict[str, Any] = {
        "kind": kind,
        "occurred_at": occurred_at,
        "channel": rng.choice(channels),
        "subject": _SUBJECTS[kind].format(rng.choice(_TOPICS)),
        "content": rng.choice(_CONTENTS),
        "outcome": rng.choice(_OUTCOMES),
    }
    if rng.random() < 0.2:
        data["follow_up_date"] = (occurred_at + dt.timedelta(days=rng.randint(3, 30))).date()
    return data


def _pick_busy(k: int, user: Any) -> list[int]:
    """``k`` customer ids, the same on every run: those topped up before (they have interactions created by
    the bench user), completed with the first live customer at or after ``k`` ids spread evenly over the
    id range."""
    from django.db.models import Max, Min

    from kith.parties.choices import CustomerStatus
    from kith.parties.models import Customer, Interaction

    live = Customer.objects.filter(merged_into__isnull=True).exclude(status=CustomerStatus.ARCHIVED)
    chosen = list(
        live.filter(pk__in=Interaction.objects.filter(created_by=user).values("customer_id"))
        .order_by("pk")
        .values_list("pk", flat=True)[:k]
    )
    if len(chosen) >= k:
        return chosen
    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return chosen
    lo, hi = bounds["lo"], bounds["hi"]
    taken = set(chosen)
    for i in range(k):
        if len(chosen) >= k:
            break
        target = lo + (hi - lo + 1) * i // k
        for pk in live.filter(pk__gte=target).order_by("pk").values_list("pk", flat=True)[:8]:
            if pk not in taken:
                chosen.append(pk)
                taken.add(pk)
                break
    if len(chosen) < k:  # a small or sparse database: take whatever is left
        for pk in live.exclude(pk__in=chosen).order_by("pk").values_list("pk", flat=True)[: k - len(chosen)]:
            chosen.append(pk)
    return chosen


def _timeline_counts(ids: list[int]) -> dict[int, int]:
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count

    from kith.core.models import TimelineEntry
    from kith.parties.models import Customer

    ct = ContentType.objects.get_for_model(Customer)
    counts = dict.fromkeys(ids, 0)
    for start in range(0, len(ids), 900):
        rows = (
            TimelineEntry.objects.filter(subject_type=ct, subject_id__in=ids[start : start + 900])
            .values("subject_id")
            .annotate(n=Count("id"))
            .values_list("subject_id", "n")
        )
        counts.update({int(cid): int(n) for cid, n in rows})
    return counts


def _busy_customers(k: int) -> dict[str, Any]:
    """``k`` customers with >= BUSY_MIN timeline entries: those with fewer get interactions added through
    ``interaction_create`` (as the bench user, over the past two years) until they have BUSY_TARGET.
    A database prepared before already has them: then nothing is added."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from kith.parties.models import Customer
    from kith.parties.services import interaction_create

    user = get_user_model().objects.get(username=BENCH_USERNAME)
    ids = _pick_busy(k, user)
    counts = _timeline_counts(ids)
    short = [cid for cid in ids if counts[cid] < BUSY_MIN]
    started = time.perf_counter()
    added = 0
    now = timezone.now()
    customers = Customer.objects.in_bulk(short)
    for cid in short:
        rng = random.Random(f"bench-busy-{cid}")
        with transaction.atomic():
            for _i in range(BUSY_TARGET - counts[cid]):
                interaction_create(actor=user, customer=customers[cid], data=_interaction_data(rng, now))
                added += 1
    seconds = time.perf_counter() - started
    if short:
        counts = _timeline_counts(ids)
    numbers = dict(Customer.objects.filter(pk__in=ids).values_list("id", "customer_number"))
    print(
        f"busy customers: {len(ids)} chosen, {len(short)} topped up with {added} interactions"
        f" in {seconds:.1f} s; timeline entries {min(counts.values(), default=0)}"
        f"-{max(counts.values(), default=0)}"
    )
    return {
        "busy_source": "timeline entries",
        "busy": [{"customer_number": numbers[cid], "entries": counts[cid]} for cid in ids],
        "busy_added": {"customers": len(short), "interactions": added, "seconds": round(seconds, 2)},
    }


def _totals() -> dict[str, int]:
    from django.contrib.contenttypes.models import ContentType

    from kith.core.models import TimelineEntry
    from kith.parties.models import Customer, Email, Interaction, Phone

    ct = ContentType.objects.get_for_model(Customer)
    return {
        "customers": Customer.objects.count(),
        "phones": Phone.objects.count(),
        "emails": Email.objects.count(),
        "interactions": Interaction.objects.count(),
        "timeline_entries": TimelineEntry.objects.filter(subject_type=ct).count(),
    }


HIERARCHY_USERS, HIERARCHY_LEVELS = 2000, 9
_HIERARCHY_KEY = "bench.hierarchy"


def _hierarchy() -> dict[str, Any]:
    """A 9-level, 2,000-user sales organisation owning every customer (round robin), made once per
    database: ``bh0000`` heads it, each level fans out, the last level holds the representatives.
    Returns API tokens of a representative (a leaf, a few hundred customers), a middle manager and the head."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from kith.core.models import SiteSetting
    from kith.parties.models import Customer
    from kith.security import services
    from kith.security.models import Role

    user_model = get_user_model()
    done = SiteSetting.objects.filter(key=_HIERARCHY_KEY).values_list("value", flat=True).first()
    if not done:
        started = time.perf_counter()
        # level sizes 1, 2, 4, ... 128 and the rest of the 2,000 (1,745 representatives) at the ninth
        sizes = [2**i for i in range(HIERARCHY_LEVELS - 1)]
        sizes.append(HIERARCHY_USERS - sum(sizes))
        with transaction.atomic():
            old = list(user_model.objects.filter(username__startswith="bh").values_list("pk", flat=True))
            if old:  # an earlier layout: free its customers (owner is protected), then remove it
                with connection.cursor() as cursor:  # raw: a bench reshuffle, not a business change
                    table = connection.ops.quote_name(Customer._meta.db_table)
                    cursor.execute(f"UPDATE {table} SET owner_id = NULL WHERE owner_id IS NOT NULL")  # noqa: S608
                user_model.objects.filter(pk__in=old).delete()
            made: list[list[Any]] = []
            n = 0
            for level, size in enumerate(sizes):
                rows = []
                for i in range(size):
                    u = user_model(
                        username=f"bh{n:04d}",
                        email=f"bh{n:04d}@example.com",
                        display_name=f"Bench L{level} #{i}",
                    )
                    u.set_unusable_password() if n else u.set_password(BENCH_PASSWORD)
                    if made:
                        u.manager = made[-1][i % len(made[-1])]
                    rows.append(u)
                    n += 1
                made.append(user_model.objects.bulk_create(rows))  # no signals: one rebuild below
            roles = {r.code: r.pk for r in Role.objects.filter(code__in=["sales_manager", "sales_rep"])}
            through = user_model.roles.through
            through.objects.bulk_create(
                [
                    through(
                        user_id=u.pk,
                        role_id=roles["sales_rep" if level == len(made) - 1 else "sales_manager"],
                    )
                    for level, users in enumerate(made)
                    for u in users
                ]
            )
            services.rebuild_reach()
            services.changed()
            ids = [u.pk for users in made for u in users]
            table = connection.ops.quote_name(Customer._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMP TABLE bench_owner (k INTEGER PRIMARY KEY, user_id BIGINT NOT NULL)"
                )
                cursor.executemany("INSERT INTO bench_owner VALUES (%s, %s)", list(enumerate(ids)))
                cursor.execute(
                    f"UPDATE {table} SET owner_id = (SELECT o.user_id FROM bench_owner o "  # noqa: S608
                    f"WHERE o.k = {table}.id % {len(ids)})"
                )
                cursor.execute("DROP TABLE bench_owner")
                cursor.execute(f"ANALYZE {table}")
            SiteSetting.objects.update_or_create(
                key=_HIERARCHY_KEY,
                defaults={
                    "value": {
                        "users": len(ids),
                        "levels": len(made),
                        "seconds": round(time.perf_counter() - started, 1),
                    }
                },
            )
    head = user_model.objects.get(username="bh0000")
    middle = user_model.objects.get(username=f"bh{sum(2**i for i in range(4)):04d}")  # first of level 5
    rep = (
        user_model.objects.filter(username__startswith="bh").order_by("-username").first()
    )  # a representative
    assert rep is not None
    out: dict[str, Any] = {}
    for label, user in (("rep", rep), ("middle", middle), ("head", head)):
        token, _created = Token.objects.get_or_create(user=user)
        out[label] = {
            "username": user.username,
            "token": str(token.key),
            "customers": Customer.objects.filter(owner_id__in=services_reach(user)).count(),
        }
    return out


def services_reach(user: Any) -> list[int]:
    from kith.security.models import Reach

    return list(Reach.objects.filter(manager=user).values_list("member_id", flat=True))


def setup(out: Path, sample: int, seed: int, busy_count: int) -> None:
    _django()
    token = _bench_user()
    busy = _busy_customers(busy_count)
    payload = {
        "username": BENCH_USERNAME,
        "password": BENCH_PASSWORD,
        "token": token,
        "hierarchy": _hierarchy(),
        "totals": _totals(),
        "customers": _sample_customers(sample, seed),
        **busy,
    }
    out.write_text(json.dumps(payload, ensure_ascii=False, default=str))


def cleanup(numbers_file: Path) -> None:
    _django()
    from kith.parties.models import Customer

    numbers = [n for n in numbers_file.read_text().split() if n]
    deleted = 0
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        deleted += Customer.objects.filter(customer_number__in=chunk).delete()[1].get("parties.Customer", 0)
    print(f"deleted {deleted} benchmark-created customers")


def audit_overhead(out: Path, count: int) -> None:
    """Service-level timings of create and update with and without audit entries, interleaved so that
    both see the same database state and machine load; the customers made are deleted afterwards."""
    _django()
    from django.contrib.auth import get_user_model

    from kith.audit.capture import suppressed
    from kith.parties import services
    from kith.parties.models import Customer

    actor = get_user_model().objects.get(username=BENCH_USERNAME)
    rng = random.Random(11)
    run = f"{random.randrange(16**6):06x}"
    timings: dict[str, list[float]] = {"create on": [], "create off": [], "update on": [], "update off": []}
    made: list[int] = []

    def create(i: int) -> Any:
        return services.customer_create(
            actor=actor,
            kind="person",
            data={
                "family_name": "Audit",
                "given_name": f"Cost{run}{i:05d}",
                "id_document_number": f"ID{i:08d}",
            },
            phones=[{"number": f"+86139{rng.randrange(10**8):08d}", "label": "mobile"}],
            emails=[{"address": f"audit-{run}-{i}@example.com"}],
        )

    def update(customer: Any, i: int) -> None:
        services.customer_update(
            actor=actor,
            customer=customer,
            expected_version=None,
            data={"given_name": f"Changed{run}{i:05d}", "status": "active"},
        )

    for i in range(count + 10):  # the first 10 of each warm up
        for audited in (True, False) if i % 2 else (False, True):
            label = "on" if audited else "off"
            started = time.perf_counter()
            if audited:
                customer = create(i * 2)
            else:
                with suppressed():
                    customer = create(i * 2 + 1)
            elapsed = (time.perf_counter() - started) * 1000
            made.append(customer.pk)
            started = time.perf_counter()
            if audited:
                update(customer, i)
            else:
                with suppressed():
                    update(customer, i)
            updated = (time.perf_counter() - started) * 1000
            if i >= 10:
                timings[f"create {label}"].append(elapsed)
                timings[f"update {label}"].append(updated)

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    result = {
        name: {"n": len(v), "p50_ms": pct(v, 0.5), "p95_ms": pct(v, 0.95)} for name, v in timings.items()
    }
    with suppressed():  # the bench's own customers, not business data: removed without a trail
        Customer.objects.filter(pk__in=made).delete()
    out.write_text(json.dumps(result))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prepare")
    sub = parser.add_subparsers(dest="mode", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument("--out", type=Path, required=True)
    p_setup.add_argument("--sample", type=int, default=2000)
    p_setup.add_argument("--seed", type=int, default=7)
    p_setup.add_argument("--busy", type=int, default=200, help="customers brought to >= 50 timeline entries")
    p_clean = sub.add_parser("cleanup")
    p_clean.add_argument("--numbers", type=Path, required=True)
    p_audit = sub.add_parser("audit-overhead")
    p_audit.add_argument("--out", type=Path, required=True)
    p_audit.add_argument("--count", type=int, default=200)
    args = parser.parse_args(argv)
    if args.mode == "setup":
        setup(args.out, args.sample, args.seed, args.busy)
    elif args.mode == "audit-overhead":
        audit_overhead(args.out, args.count)
    else:
        cleanup(args.numbers)


if __name__ == "__main__":
    main()
