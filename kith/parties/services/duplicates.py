"""Finding likely duplicate customers, incrementally.

A pair is a candidate when the two share a phone, an email or an ID-document number (compared through their
blind indexes and keys, so in any format), or when their names are close (``rapidfuzz`` on the normalised
search names of customers whose names start alike: an index range, never a scan), more so with the same
postal code or city. Each pair gets a score (0-100) and its reasons.

The work is incremental: ``scan_changed`` looks only at customers changed since the last scan (the
``updated_at`` index), so it stays cheap at a million customers; ``kith schedule`` queues it when something
changed. ``scan_all`` (a background job with a progress bar, from the duplicates page or
``kith duplicates scan``) goes through every customer once, for a first run or after a change of rules.
A pair someone marked "not the same" stays dismissed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kith.audit.choices import Action
from kith.audit.services import record_event
from kith.core.search import PREFIX_END
from kith.core.settings_store import get_setting, set_setting
from kith.jobs import services as jobs
from kith.jobs.models import Job
from kith.parties.models import Address, Customer, DuplicateCandidate, DuplicateStatus, Email, Phone
from kith.parties.services.search_keys import word_orders
from kith.security.rules import EDIT, require_permission

SCAN_KIND = "customers.duplicates_scan"
WATERMARK = "duplicates.scanned_until"
BATCH = 500
NAME_NEIGHBOURS = 30  # customers read per name: those whose names start with the same letters
NAME_PREFIX = 5
NAME_THRESHOLD = 92

REASONS = {
    "id_number": (100, gettext_lazy("same ID number")),
    "phone": (90, gettext_lazy("same phone")),
    "email": (90, gettext_lazy("same email")),
    "name_address": (85, gettext_lazy("similar name and address")),
    "name": (70, gettext_lazy("similar name")),
}


def reason_labels(reasons: Iterable[str]) -> list[str]:
    return [str(REASONS[r][1]) for r in reasons if r in REASONS]


def score_of(reasons: Iterable[str]) -> int:
    points = sorted((REASONS[r][0] for r in set(reasons) if r in REASONS), reverse=True)
    if not points:
        return 0
    return min(100, points[0] + 5 * (len(points) - 1))


def _live(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    return {
        row["id"]: dict(row)
        for row in Customer.objects.filter(pk__in=list(ids), merged_into__isnull=True).values(
            "id", "kind", "search_name", "id_document_index"
        )
    }


def _shared(model: Any, key: str, ids: list[int]) -> list[tuple[int, int]]:
    """Pairs of different customers sharing a value of ``key`` (an indexed column) with one of ``ids``."""
    mine = list(
        model.objects.filter(customer_id__in=ids).exclude(**{key: ""}).values_list("customer_id", key)
    )
    if not mine:
        return []
    by_value: dict[str, set[int]] = defaultdict(set)
    for customer_id, value in mine:
        by_value[value].add(customer_id)
    pairs = []
    for other, value in model.objects.filter(**{f"{key}__in": list(by_value)}).values_list(
        "customer_id", key
    ):
        for customer_id in by_value[value]:
            if customer_id != other:
                pairs.append((customer_id, other))
    return pairs


def _places(ids: Iterable[int]) -> dict[int, set[str]]:
    places: dict[int, set[str]] = defaultdict(set)
    for customer_id, postal_code, city in Address.objects.filter(customer_id__in=list(ids)).values_list(
        "customer_id", "postal_code", "city"
    ):
        if postal_code:
            places[customer_id].add("pc:" + postal_code.replace(" ", "").casefold())
        if city:
            places[customer_id].add("city:" + city.strip().casefold())
    return places


_RANGES_PER_QUERY = 100  # name ranges read by one statement (SQLite allows 500 compound SELECTs)


def _neighbours(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """For each (name prefix, kind): the first NAME_NEIGHBOURS + 1 live customers of that kind whose
    search names start with the prefix, by search name then id. Each is an index range on
    ``customer_search_name_idx`` (``startswith`` became a LIKE that SQLite answers by walking the whole
    index from its start); a hundred ranges go to the database as one UNION ALL statement, not one query
    per customer."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    keys = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], list[tuple[int, str]]] = {key: [] for key in keys}
    for start in range(0, len(keys), _RANGES_PER_QUERY):
        chunk = keys[start : start + _RANGES_PER_QUERY]
        parts, params = [], []
        for n, (prefix, kind) in enumerate(chunk):
            parts.append(
                f"SELECT * FROM (SELECT {n} AS k, id, search_name FROM {table}"  # noqa: S608 - no user text
                " WHERE search_name >= %s AND search_name < %s AND kind = %s AND merged_into_id IS NULL"
                f" ORDER BY search_name, id LIMIT {NAME_NEIGHBOURS + 1}) AS r{n}"
            )
            params += [prefix, prefix + PREFIX_END, kind]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            rows = cursor.fetchall()
        for n, pk, name in rows:
            found[chunk[n]].append((pk, name))
    for rows in found.values():  # UNION ALL keeps no order: each range's own order again
        rows.sort(key=lambda row: (row[1], row[0]))
    return found


def _name_pairs(customers: dict[int, dict[str, Any]]) -> list[tuple[int, int]]:
    """Pairs of customers with close names (word order ignored): each compared with the first
    NAME_NEIGHBOURS others of its kind whose names start with the same NAME_PREFIX letters as its name, or
    as its name with another word first ("Berg Anna" meets "Anna Berg")."""
    from rapidfuzz import fuzz

    named = {
        pk: [(order[:NAME_PREFIX], row["kind"]) for order in word_orders(row["search_name"])]
        for pk, row in customers.items()
        if len(row["search_name"] or "") >= 4
    }
    neighbours = _neighbours(key for keys in named.values() for key in keys)
    pairs = []
    for pk, keys in named.items():
        name = customers[pk]["search_name"]
        seen: set[int] = {pk}
        for key in keys:
            others = [(other, other_name) for other, other_name in neighbours[key] if other not in seen]
            for other, other_name in others[:NAME_NEIGHBOURS]:
                seen.add(other)
                if fuzz.token_sort_ratio(name, other_name) >= NAME_THRESHOLD:
                    pairs.append((pk, other))
    return pairs


def find_pairs(ids: Iterable[int]) -> dict[tuple[int, int], set[str]]:
    """The candidate pairs (smaller id first) of the customers ``ids`` with everyone, and why."""
    customers = _live(ids)
    if not customers:
        return {}
    keys = list(customers)
    found: dict[tuple[int, int], set[str]] = defaultdict(set)

    def add(a: int, b: int, reason: str) -> None:
        found[(min(a, b), max(a, b))].add(reason)

    for a, b in _shared(Phone, "number_index", keys):
        add(a, b, "phone")
    for a, b in _shared(Email, "address_key", keys):
        add(a, b, "email")
    by_id_number = {row["id_document_index"]: pk for pk, row in customers.items() if row["id_document_index"]}
    if by_id_number:
        for other, index in Customer.objects.filter(
            id_document_index__in=list(by_id_number), merged_into__isnull=True
        ).values_list("id", "id_document_index"):
            if other != by_id_number[index]:
                add(by_id_number[index], other, "id_number")
    named = _name_pairs(customers)
    if named:
        places = _places({p for pair in named for p in pair})
        for a, b in named:
            add(a, b, "name_address" if places.get(a, set()) & places.get(b, set()) else "name")
    merged = set(
        Customer.objects.filter(
            pk__in={p for pair in found for p in pair}, merged_into__isnull=False
        ).values_list("pk", flat=True)
    )
    return {pair: reasons for pair, reasons in found.items() if not (set(pair) & merged)}


def _store(pairs: dict[tuple[int, int], set[str]]) -> int:
    """Insert new pairs and refresh open ones; dismissed and merged pairs stay as decided."""
    if not pairs:
        return 0
    existing: dict[tuple[int, int], tuple[int, str, list[str]]] = {}
    firsts = sorted({a for a, _b in pairs})
    for start in range(0, len(firsts), 500):
        # by the first id only (the unique index's leading column): asking for first IN (...) AND
        # second IN (...) made SQLite try every combination
        for pk, first, second, status, reasons in DuplicateCandidate.objects.filter(
            first_id__in=firsts[start : start + 500]
        ).values_list("pk", "first_id", "second_id", "status", "reasons"):
            if (first, second) in pairs:
                existing[(first, second)] = (pk, status, reasons)
    new = []
    for (a, b), reasons in pairs.items():
        ordered = sorted(reasons, key=lambda r: -REASONS[r][0])
        stored = existing.get((a, b))
        if stored is None:
            new.append((a, b, score_of(reasons), ordered))
        elif stored[1] == DuplicateStatus.OPEN and stored[2] != ordered:
            DuplicateCandidate.objects.filter(pk=stored[0]).update(
                score=score_of(reasons), reasons=ordered, found_at=timezone.now()
            )
    _insert(new)
    return len(new)


_INSERT_ROWS = 500  # pairs per INSERT statement (6 parameters each, far below both engines' limits)


def _insert(pairs: list[tuple[int, int, int, list[str]]]) -> None:
    """New open pairs (first, second, score, reasons), a pair stored meanwhile left as it is: a few
    multi-row INSERTs. ``bulk_create`` built and prepared a model instance per pair, most of the time
    of a scan on data with many shared emails (candidates are exempt from the audit trail)."""
    if not pairs:
        return
    meta = DuplicateCandidate._meta
    fields: list[Any] = [
        meta.get_field(name) for name in ("first", "second", "score", "reasons", "status", "found_at")
    ]
    reasons_field, found_field = fields[3], fields[5]
    ops = connection.ops
    found_at = found_field.get_db_prep_save(timezone.now(), connection)
    head = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {ops.quote_name(meta.db_table)}"
        f" ({', '.join(ops.quote_name(f.column) for f in fields)}) VALUES "
    )
    tail = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None) or ""
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), _INSERT_ROWS):
            chunk = pairs[start : start + _INSERT_ROWS]
            params: list[Any] = []
            for a, b, score, reasons in chunk:
                prepared = reasons_field.get_db_prep_save(reasons, connection)
                params += [a, b, score, prepared, DuplicateStatus.OPEN.value, found_at]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(f"{head}{values} {tail}", params)


def scan(ids: Iterable[int]) -> int:
    """Look for duplicates of ``ids``; return how many new pairs were found."""
    found = 0
    ids = list(ids)
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            found += _store(find_pairs(ids[start : start + BATCH]))
    return found


def scan_changed(now: dt.datetime | None = None) -> int:
    """Look at the customers changed since the last scan (created, edited, imported); return new pairs."""
    started = now or timezone.now()
    since = get_setting(WATERMARK)
    changed = Customer.objects.filter(merged_into__isnull=True)
    if since:
        changed = changed.filter(updated_at__gte=dt.datetime.fromisoformat(since))
    found = 0
    last = 0
    while True:
        ids = list(changed.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        found += scan(ids)
        last = ids[-1]
    set_setting(WATERMARK, started.isoformat())
    return found


def changed_since_scan() -> bool:
    since = get_setting(WATERMARK)
    qs = Customer.objects.all()
    if since:
        qs = qs.filter(updated_at__gte=dt.datetime.fromisoformat(since))
    return qs.exists()


def run_scan_all(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    started = timezone.now()
    live = Customer.objects.filter(merged_into__isnull=True)
    progress.set_total(live.count())
    found = last = 0
    while True:
        ids = list(live.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        found += scan(ids)
        last = ids[-1]
        progress.advance(len(ids))
    set_setting(WATERMARK, started.isoformat())
    return {
        "new_pairs": found,
        "open": DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).count(),
    }


def start_scan_all(*, actor: Any, source: str | None = None) -> Job:
    require_permission(actor, "customer", EDIT)
    return jobs.start(
        SCAN_KIND, actor=actor, params={}, title=_("Search for duplicate customers"), source=source
    )


def dismiss(*, actor: Any, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """Mark a pair "not the same": it is not proposed again (audited)."""
    from kith.parties.services.access import require_change

    if candidate.status != DuplicateStatus.OPEN:
        raise ValidationError(_("This pair was decided already."))
    first = Customer.objects.get(pk=candidate.first_id)
    second = Customer.objects.get(pk=candidate.second_id)
    try:
        require_change(actor, first)
        require_change(actor, second)
    except PermissionDenied:
        raise PermissionDenied(_("You may not change one of these customers.")) from None
    with transaction.atomic():
        DuplicateCandidate.objects.filter(pk=candidate.pk).update(
            status=DuplicateStatus.DISMISSED, decided_by=actor
        )
        record_event(
            Action.UPDATE,
            object_type="parties.duplicatecandidate",
            object_id=candidate.pk,
            object_repr=f"{first.customer_number} ~ {second.customer_number}",
            customer_id=first.pk,
            details={
                "status": [DuplicateStatus.OPEN, DuplicateStatus.DISMISSED],
                "pair": [first.customer_number, second.customer_number],
            },
            actor=actor,
        )
    candidate.refresh_from_db()
    return candidate
