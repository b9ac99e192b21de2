"""Runs inside Django (a subprocess with DATABASE_URL set): bench user and token, sampled query values, cleanup.

``python -m bench.prepare setup --out FILE --sample K``   user ``bench`` + DRF token + sampled values (JSON)
``python -m bench.prepare cleanup --numbers FILE``        delete the customers the create benchmark made
"""

from __future__ import annotations

import argparse
import json
import os
import random
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


def _busy_customers(k: int) -> tuple[str, list[dict[str, Any]]]:
    """Customers with the most timeline entries (or interactions, when the timeline is empty)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count

    from kith.core.models import TimelineEntry
    from kith.parties.models import Customer, Interaction

    ct = ContentType.objects.get_for_model(Customer)
    source = "timeline entries"
    counted = list(
        TimelineEntry.objects.filter(subject_type=ct)
        .values("subject_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("subject_id", "n")[:k]
    )
    if not counted:
        source = "interactions"
        counted = list(
            Interaction.objects.values("customer_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("customer_id", "n")[:k]
        )
    numbers = dict(
        Customer.objects.filter(pk__in=[cid for cid, _n in counted]).values_list("id", "customer_number")
    )
    busy = [{"customer_number": numbers[cid], "entries": n} for cid, n in counted if cid in numbers]
    return source, busy


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


def setup(out: Path, sample: int, seed: int) -> None:
    _django()
    token = _bench_user()
    source, busy = _busy_customers(max(50, sample // 4))
    payload = {
        "username": BENCH_USERNAME,
        "password": BENCH_PASSWORD,
        "token": token,
        "totals": _totals(),
        "customers": _sample_customers(sample, seed),
        "busy_source": source,
        "busy": busy,
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prepare")
    sub = parser.add_subparsers(dest="mode", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument("--out", type=Path, required=True)
    p_setup.add_argument("--sample", type=int, default=2000)
    p_setup.add_argument("--seed", type=int, default=7)
    p_clean = sub.add_parser("cleanup")
    p_clean.add_argument("--numbers", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.mode == "setup":
        setup(args.out, args.sample, args.seed)
    else:
        cleanup(args.numbers)


if __name__ == "__main__":
    main()
