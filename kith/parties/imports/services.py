"""Importing customers: a file (CSV, XLSX, vCard) is read with a column mapping, each row is matched against
the customers that exist and then skipped, updated, merged or created, through the customer services (so
every rule, field-level check, permission and audit entry applies, with source "import").

Matching, per row (the candidates of a whole batch are read in a few queries, see ``_Matcher``):
- exact: the customer number, any phone (compared through its blind index, in any format) or any email
  (case-insensitively); two different customers matching one row make the row ambiguous (rejected);
- fuzzy (when nothing matched exactly): the name compared with ``rapidfuzz`` against the customers whose
  search names sort next to it; the best score at or above the threshold (0-100, default 90) is a match.
  A name with a misspelt first letter, or its words in another order, is not found this way.
The rule for each kind of match is one of ``skip``, ``update`` (the file's non-empty values replace the
customer's; phones, emails, addresses, tags, categories and roles are added), ``merge`` (only empty fields
are filled; lists are added to) or ``create`` (a new customer all the same); a choice for a single row
(``Options.row_actions``) overrides the rules. A row that matches nothing is created: checked on its own,
written with the rest of its batch (``customers_create``).

A run is a background job (``kith.jobs``): rows are applied in batches, each batch in one transaction with
the job's checkpoint, so a worker killed mid-import resumes after the last committed batch: no row is applied
twice or half. Rejected rows go to an error file (the row as read, plus the reason), which is the job's file.
A dry run checks every row the same way, rolls back each update and writes no new customer, and reports
what would happen.

Every customer an import created or changed is recorded (``ImportChange``, with the values before an
update, encrypted), so an import can be undone as a whole while none of those customers changed since.
"""

from __future__ import annotations

import csv
import json
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kith.audit.context import audit_context
from kith.core.crypto import open_token, seal
from kith.core.errors import ConflictError, DeleteRefused
from kith.core.exports import safe_cell
from kith.core.readers import ReadError, Table, open_table
from kith.jobs import services as jobs
from kith.jobs.models import Job, JobStatus
from kith.parties import services as customers
from kith.parties.imports import presets
from kith.parties.imports.records import to_record
from kith.parties.models import (
    Category,
    Customer,
    CustomFieldDefinition,
    Email,
    ImportChange,
    PartyRole,
    Phone,
    Relationship,
    RelationshipType,
    SpecialDate,
)
from kith.parties.selectors.customers import customers_for
from kith.parties.services.contact_points import contact_items, normalise_email, normalise_phone
from kith.parties.services.custom_fields import definitions_for
from kith.parties.services.merge import survivor_id
from kith.parties.services.search_keys import name_keys, word_orders
from kith.security.rules import IMPORT, require_permission

JOB_KIND = "customers.import"
UNDO_KIND = "customers.import_undo"
SKIP, UPDATE, MERGE, CREATE = "skip", "update", "merge", "create"
ACTIONS = (SKIP, UPDATE, MERGE, CREATE)
DEFAULT_RULES = {"exact": UPDATE, "fuzzy": SKIP}
DEFAULT_THRESHOLD = 90
BATCH = 1000  # rows a transaction (with the job's checkpoint)
PREVIEW_ROWS = 20
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_UPLOAD_NAME = re.compile(r"\A[0-9a-f]{32}\.(csv|txt|tsv|xlsx|vcf)\Z")
_SCALARS = (
    "display_name",
    "given_name",
    "family_name",
    "legal_name",
    "gender",
    "birth_date",
    "status",
    "source",
    "industry",
    "founded_date",
    "registration_number",
)
_BEFORE_LABEL = "parties.importchange.before"


# --- uploads --------------------------------------------------------------------------------------------


def uploads_dir() -> Path:
    folder = jobs.jobs_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def save_upload(chunks: Iterable[bytes], *, filename: str) -> str:
    """Store an uploaded file (streamed) for the import; return its name in the uploads folder."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in {"csv", "txt", "tsv", "xlsx", "vcf"}:
        raise ValidationError({"file": [_("Choose a CSV, XLSX or vCard (.vcf) file.")]})
    name = f"{secrets.token_hex(16)}.{suffix}"
    path = uploads_dir() / name
    size = 0
    with path.open("xb") as handle:
        path.chmod(0o600)
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                handle.close()
                path.unlink(missing_ok=True)
                raise ValidationError({"file": [_("The file is larger than 512 MB.")]})
            handle.write(chunk)
    if size == 0:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": [_("The file is empty.")]})
    return name


def upload_path(name: str) -> Path:
    if not _UPLOAD_NAME.match(name or ""):
        raise ValidationError({"file": [_("Upload the file again.")]})
    path = uploads_dir() / name
    if not path.exists():
        raise ValidationError(
            {"file": [_("The uploaded file is gone (files are kept a few days); upload it again.")]}
        )
    return path


def read_upload(name: str, *, filename: str = "") -> Table:
    try:
        return open_table(upload_path(name), filename=filename)
    except ReadError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc


# --- options ----------------------------------------------------------------------------------------------


@dataclass
class Options:
    mapping: dict[str, str]
    rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RULES))
    threshold: int = DEFAULT_THRESHOLD
    dry_run: bool = False
    default_kind: str = ""
    owner_id: int | None = None
    row_actions: dict[str, str] = field(default_factory=dict)  # row number -> action, over the rules

    def as_params(self) -> dict[str, Any]:
        return {
            "row_actions": self.row_actions,
            "mapping": self.mapping,
            "rules": self.rules,
            "threshold": self.threshold,
            "dry_run": self.dry_run,
            "default_kind": self.default_kind,
            "owner_id": self.owner_id,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Options:
        return cls(
            mapping=dict(params.get("mapping") or {}),
            rules={**DEFAULT_RULES, **(params.get("rules") or {})},
            threshold=int(params.get("threshold") or DEFAULT_THRESHOLD),
            dry_run=bool(params.get("dry_run")),
            default_kind=str(params.get("default_kind") or ""),
            owner_id=params.get("owner_id"),
            row_actions={str(k): str(v) for k, v in (params.get("row_actions") or {}).items()},
        )


def check_options(options: Options, columns: list[str]) -> None:
    """One ValidationError keyed by field (``mapping.<column>``, ``rules.exact`` ...) for bad options."""
    errors: dict[str, list[str]] = {}
    custom_keys = set(CustomFieldDefinition.objects.filter(is_active=True).values_list("key", flat=True))
    type_codes = set(RelationshipType.objects.filter(is_active=True).values_list("code", flat=True))
    for column, target in options.mapping.items():
        if column not in columns:
            errors[f"mapping.{column}"] = [_("The file has no such column.")]
        elif target and not presets.is_valid_target(target):
            errors[f"mapping.{column}"] = [_("Unknown field “%(target)s”.") % {"target": target}]
        elif target.startswith("custom:") and target[7:] not in custom_keys:
            errors[f"mapping.{column}"] = [_("There is no custom field “%(key)s”.") % {"key": target[7:]}]
        elif target.startswith("related:") and target[8:] not in type_codes:
            errors[f"mapping.{column}"] = [
                _("There is no relationship type “%(code)s”.") % {"code": target[8:]}
            ]
    if not any(options.mapping.values()):
        errors["mapping"] = [_("Map at least one column to a field.")]
    for rule in ("exact", "fuzzy"):
        if options.rules.get(rule) not in ACTIONS:
            errors[f"rules.{rule}"] = [_("Choose skip, update, merge or create.")]
    for row, action in options.row_actions.items():
        if not row.isdigit() or int(row) < 1:
            errors["row_actions"] = [_("Give row numbers (1 is the first row after the header).")]
        elif action not in ACTIONS:
            errors[f"row_actions.{row}"] = [_("Choose skip, update, merge or create.")]
    if not 50 <= options.threshold <= 100:
        errors["threshold"] = [_("Between 50 and 100.")]
    if options.default_kind not in ("", "person", "company"):
        errors["default_kind"] = [_("Choose person or company.")]
    if (
        options.owner_id is not None
        and not get_user_model().objects.filter(pk=options.owner_id, is_active=True).exists()
    ):
        errors["owner_id"] = [_("Choose an active user as account manager.")]
    if errors:
        raise ValidationError(errors)


# --- one row ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    row: int
    action: str  # created, updated, merged, unchanged (matched, nothing new), skipped, rejected
    customer: Customer | None = None
    match: str = ""  # how it matched, for people: "phone", "name 93" ...
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return "; ".join(f"{k}: {v}" if k != "__all__" else v for k, v in self.errors.items())


class _Rejected(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors


def _flat_errors(exc: ValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
    return {"__all__": " ".join(str(m) for m in exc.messages)}


class _Catalogue:
    """Names in the file resolved to categories, roles, relationship types and owners (cached per run)."""

    def __init__(self) -> None:
        self.categories = {c.name.casefold(): c.pk for c in Category.objects.filter(is_active=True)}
        self.categories.update({c.path.casefold(): c.pk for c in Category.objects.filter(is_active=True)})
        self.roles = {r.name.casefold(): r.pk for r in PartyRole.objects.all()}
        self.roles.update({r.code.casefold(): r.pk for r in PartyRole.objects.all()})
        self.types = {t.code: t for t in RelationshipType.objects.filter(is_active=True)}
        self.owners: dict[str, int | None] = {}
        self.definitions = {kind: definitions_for(kind) for kind in ("person", "company")}

    def owner(self, text: str) -> int | None:
        key = text.strip().casefold()
        if key not in self.owners:
            users = get_user_model().objects.filter(is_active=True)
            found = (
                users.filter(Q(username__iexact=key) | Q(email__iexact=key))
                .values_list("pk", flat=True)
                .first()
            )
            if found is None:
                for user in users.only("pk", "first_name", "last_name", "username"):
                    if str(user).casefold() == key or user.get_full_name().casefold() == key:
                        found = user.pk
                        break
            self.owners[key] = found
        return self.owners[key]


def _name_of(record: dict[str, Any]) -> str:
    if record.get("display_name"):
        return str(record["display_name"])
    person = " ".join(p for p in (record.get("given_name"), record.get("family_name")) if p)
    return person or str(record.get("legal_name") or record.get("company_name") or "")


def _matcher(actor: Any, records: Iterable[dict[str, Any]], options: Options, region: str) -> _Matcher:
    return _Matcher(
        actor, records, region=region, fuzzy=options.rules["fuzzy"] != CREATE, threshold=options.threshold
    )


class _Matcher:
    """Who a batch of records matches, read in a few queries for the whole batch (one query per row ran
    the visibility subquery per lookup and walked the whole customer table on SQLite).

    - exact: customers sharing the record's customer number (a merged number leads to its survivor), a
      phone (through its blind index, so in any format) or an email (case-insensitively);
    - fuzzy: among the customers whose search names sort next to the record's name or to the name with
      another word first (the same index the duplicates report reads), the best ``rapidfuzz`` score, word
      order ignored. A misspelt first letter of every word is not found (no index puts it near).
    Only customers ``actor`` sees count: an import must not tell who owns a phone number. Customers the
    batch itself creates or changes are learnt as it goes, so a file naming one person twice makes one
    customer.
    """

    NEIGHBOURS = 12  # names read on each side of a record's name

    def __init__(
        self, actor: Any, records: Iterable[dict[str, Any]], *, region: str, fuzzy: bool, threshold: int
    ) -> None:
        self.actor, self.region, self.threshold, self.fuzzy_on = actor, region, threshold, fuzzy
        self.held_keys: set[str] = set()
        self.held_names: list[str] = []
        self.keys: dict[int, tuple[str, list[str], list[str]]] = {}
        self.by_number: dict[str, int] = {}
        self.by_phone: dict[str, set[int]] = defaultdict(set)
        self.by_email: dict[str, set[int]] = defaultdict(set)
        self.names: dict[str, list[tuple[int, str]]] = {}
        self.names_by_prefix: dict[str, list[str]] = defaultdict(list)  # first 3 letters -> keys of names
        self._name_keys: dict[str, str] = {}
        records = list(records)
        for record in records:
            self.keys[id(record)] = self._keys_of(record)
        numbers = {k[0] for k in self.keys.values() if k[0]}
        phones = {i for k in self.keys.values() for i in k[1]}
        emails = {e for k in self.keys.values() for e in k[2]}
        found: set[int] = set()
        if numbers:
            for number, pk, merged_into in Customer.objects.filter(customer_number__in=numbers).values_list(
                "customer_number", "pk", "merged_into_id"
            ):
                self.by_number[number] = survivor_id(pk, merged_into) if merged_into else pk
        if phones:
            for index, pk in Phone.objects.filter(number_index__in=phones).values_list(
                "number_index", "customer_id"
            ):
                self.by_phone[index].add(pk)
        if emails:
            for key, pk in Email.objects.filter(address_key__in=emails).values_list(
                "address_key", "customer_id"
            ):
                self.by_email[key].add(pk)
        if fuzzy:
            wanted: dict[str, list[str]] = {}
            for record in records:
                if not self._exact_candidates(record):
                    name = self.name_key(record)
                    if len(name) >= 2 and name not in wanted:
                        wanted[name] = word_orders(name)
            near = self._neighbours_many({key for orders in wanted.values() for key in orders})
            for name, orders in wanted.items():
                self._add_names(name, [row for key in orders for row in near[key]])
        found = set(self.by_number.values())
        found.update(pk for pks in (*self.by_phone.values(), *self.by_email.values()) for pk in pks)
        found.update(pk for rows in self.names.values() for pk, _name in rows)
        self.visible = (
            set(customers_for(actor).filter(pk__in=found).values_list("pk", flat=True)) if found else set()
        )
        exact = self.visible.intersection(
            (
                *self.by_number.values(),
                *(pk for pks in (*self.by_phone.values(), *self.by_email.values()) for pk in pks),
            )
        )
        self.loaded = {c.pk: c for c in self._load(exact)} if exact else {}

    def _keys_of(self, record: dict[str, Any]) -> tuple[str, list[str], list[str]]:
        index_field: Any = Phone._meta.get_field("number_index")
        phones = []
        for phone in record.get("phones") or []:
            try:
                e164, _national = normalise_phone(str(phone.get("number") or ""), region=self.region or None)
            except ValidationError:
                continue
            phones.append(index_field.index_of(e164))
        emails = []
        for email in record.get("emails") or []:
            try:
                emails.append(normalise_email(str(email.get("address") or ""))[1])
            except ValidationError:
                continue
        return str(record.get("customer_number") or "").strip(), phones, emails

    def name_key(self, record: dict[str, Any]) -> str:
        """The search key of the record's name (folding and pinyin cost more than a dictionary look-up, and
        a row asks for it up to three times)."""
        name = _name_of(record)
        key = self._name_keys.get(name)
        if key is None:
            key = self._name_keys[name] = name_keys(name)[0]
        return key

    def _add_names(self, name: str, rows: list[tuple[int, str]]) -> None:
        """``rows``: the neighbours of ``name`` and of its other word orders; a customer the batch creates
        later is added to them when its name starts like one of these orders (as a read would find it)."""
        self.names[name] = rows
        for prefix in dict.fromkeys(order[:3] for order in word_orders(name)):
            self.names_by_prefix[prefix].append(name)

    NEIGHBOUR_READS = 100  # names whose neighbours one statement reads (200 index range reads)

    @staticmethod
    def _neighbours_many(names: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
        """For each name, the live customers whose search names sort just after and just before it: two
        index range reads a name, ``NEIGHBOUR_READS`` names a statement (``UNION ALL`` of the reads: one
        statement a read cost more in the driver than in the database). Plain SQL, as the ORM took longer
        to build these than the database to answer."""
        names = sorted(set(names))
        table = connection.ops.quote_name(Customer._meta.db_table)
        # SQLite without statistics (a new database, before ANALYZE) read every live customer through the
        # merged_into index and sorted them, 0.1 s a statement; "+" keeps it on the search-name index
        live = "+merged_into_id IS NULL" if connection.vendor == "sqlite" else "merged_into_id IS NULL"
        read = (
            "SELECT {n} AS n, id, display_name FROM (SELECT id, display_name FROM "  # noqa: S608
            f"{table} WHERE search_name {{op}} %s AND {live} "
            f"ORDER BY search_name {{order}}, id {{order}} LIMIT {_Matcher.NEIGHBOURS}) AS r{{n}}"
        )
        found: dict[str, list[tuple[int, str]]] = {}
        for start in range(0, len(names), _Matcher.NEIGHBOUR_READS):
            chunk = names[start : start + _Matcher.NEIGHBOUR_READS]
            parts, params = [], []
            for i, name in enumerate(chunk):
                parts.append(read.format(n=2 * i, op=">=", order="ASC"))
                parts.append(read.format(n=2 * i + 1, op="<", order="DESC"))
                params += [name, name]
            per_read: dict[int, list[tuple[int, str]]] = defaultdict(list)
            with connection.cursor() as cursor:
                cursor.execute(" UNION ALL ".join(parts), params)
                for n, pk, display_name in cursor.fetchall():  # each read's rows in its own order
                    per_read[int(n)].append((pk, display_name))
            for i, name in enumerate(chunk):
                found[name] = per_read[2 * i] + per_read[2 * i + 1]
        return found

    def _exact_candidates(self, record: dict[str, Any]) -> dict[int, str]:
        number, phones, emails = self.keys.get(id(record)) or self._keys_of(record)
        found: dict[int, str] = {}
        if number and number in self.by_number:
            found[self.by_number[number]] = _("customer number")
        for index in phones:
            for pk in sorted(self.by_phone.get(index, ())):
                found.setdefault(pk, _("phone"))
        for key in emails:
            for pk in sorted(self.by_email.get(key, ())):
                found.setdefault(pk, _("email"))
        return found

    def exact(self, record: dict[str, Any]) -> tuple[set[int], str]:
        found = {pk: how for pk, how in self._exact_candidates(record).items() if pk in self.visible}
        if not found:
            return set(), ""
        return set(found), found[next(iter(found))]

    def fuzzy(self, record: dict[str, Any]) -> tuple[int | None, int]:
        """The closest name at or above the threshold (0-100, word order ignored), and its score."""
        from rapidfuzz import fuzz

        name = _name_of(record)
        rows = self.names.get(self.name_key(record))
        if rows is None:  # a record the batch did not read ahead (not expected)
            key = self.name_key(record)
            near = self._neighbours_many(word_orders(key)) if len(key) >= 2 else {}
            rows = [row for k in word_orders(key) for row in near.get(k, [])]
            self.visible |= set(
                customers_for(self.actor).filter(pk__in=[pk for pk, _n in rows]).values_list("pk", flat=True)
            )
        best, best_score = None, 0
        folded = name.casefold()
        for pk, other in rows:
            if pk not in self.visible:
                continue
            score = int(fuzz.token_sort_ratio(folded, str(other).casefold()))
            if score > best_score:
                best, best_score = pk, score
        return (best, best_score) if best_score >= self.threshold else (None, best_score)

    @staticmethod
    def _load(ids: Iterable[int]) -> list[Customer]:
        """Customers with what an update compares (contact points, classification) read ahead."""
        return list(
            Customer.objects.filter(pk__in=list(ids)).prefetch_related(
                "phones", "emails", "addresses", "categories", "tags", "roles"
            )
        )

    def customer(self, pk: int, *, full: bool = True) -> Customer | None:
        """A matched customer, as it is now (read with the batch, or again when the batch changed it);
        not ``full``: only to name it (a skipped row)."""
        if not full and pk not in self.loaded:  # what names it (other fields are read when asked for)
            return (
                Customer.objects.filter(pk=pk).only("id", "customer_number", "display_name", "kind").first()
            )
        if pk not in self.loaded:
            self.loaded.update((c.pk, c) for c in self._load([pk]))
        return self.loaded.get(pk)

    def hold(self, record: dict[str, Any]) -> None:
        """``record`` will create a customer when its batch is written."""
        _number, phones, emails = self.keys.get(id(record)) or self._keys_of(record)
        self.held_keys.update(phones)
        self.held_keys.update(emails)
        self.held_names.append(_name_of(record).casefold())

    def release(self) -> None:
        self.held_keys.clear()
        self.held_names.clear()

    def touches_held(self, record: dict[str, Any]) -> bool:
        """Whether ``record`` could match a customer held back to be written with the batch."""
        from rapidfuzz import fuzz, process

        _number, phones, emails = self.keys.get(id(record)) or self._keys_of(record)
        if self.held_keys.intersection(phones) or self.held_keys.intersection(emails):
            return True
        name = _name_of(record).casefold()
        return bool(
            self.fuzzy_on
            and len(name) >= 2
            and process.extractOne(
                name, self.held_names, scorer=fuzz.token_sort_ratio, score_cutoff=self.threshold
            )
        )

    def learn(self, record: dict[str, Any], customer: Customer) -> None:
        """``customer`` was just created or changed from ``record``: later rows of the batch match it."""
        _number, phones, emails = self.keys.get(id(record)) or self._keys_of(record)
        self.visible.add(customer.pk)
        self.loaded.pop(customer.pk, None)  # changed: read again when another row matches it
        self.by_number.setdefault(customer.customer_number, customer.pk)
        for index in phones:
            self.by_phone[index].add(customer.pk)
        for key in emails:
            self.by_email[key].add(customer.pk)
        name = self.name_key(record)
        for key in self.names_by_prefix.get(name[:3], ()):  # the names sharing its first three letters
            self.names[key].append((customer.pk, customer.display_name))


def _notes(record: dict[str, Any]) -> str:
    lines = [str(record.get("notes") or "").strip()]
    kind = record.get("kind")
    if kind != "company" and record.get("company_name"):
        lines.append(_("Company: %(name)s") % {"name": record["company_name"]})
    if record.get("job_title"):
        lines.append(_("Job title: %(title)s") % {"title": record["job_title"]})
    if record.get("website"):
        lines.append(_("Website: %(url)s") % {"url": record["website"]})
    if record.get("external_id"):
        lines.append(_("ID in the other system: %(id)s") % {"id": record["external_id"]})
    lines += [str(text) for text in (record.get("notices") or {}).values()]
    return "\n".join(line for line in lines if line)


_SYNONYMS = {
    "gender": {
        "f": "female",
        "w": "female",
        "女": "female",
        "m": "male",
        "男": "male",
        "unspecified": "",
        "unknown": "",
    },
    "status": {"lead": "prospect", "customer": "active", "潜在": "prospect", "活跃": "active"},
    "source": {},
}


def _choice(name: str, value: str) -> str | None:
    """A choice field's code for ``value`` (its code, its label in any of our languages, or a common
    synonym); None when it is none of them."""
    from django.utils import translation

    from kith.parties.choices import CustomerStatus, Gender, Source

    choices = {"gender": Gender, "status": CustomerStatus, "source": Source}[name]
    text = value.strip().casefold()
    if text in _SYNONYMS[name]:
        return _SYNONYMS[name][text]
    for code, label in choices.choices:
        if text == code.casefold() or text == str(label).casefold():
            return code
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                if text == str(label).casefold():
                    return code
    return None


def _data(record: dict[str, Any], kind: str, catalogue: _Catalogue, options: Options) -> dict[str, Any]:
    data = {name: record.get(name) for name in _SCALARS if record.get(name)}
    kept: list[str] = []
    for name in ("gender", "status", "source"):
        if name in data:
            code = _choice(name, str(data[name]))
            if code is None:  # not lost: kept in the notes, and the row goes in
                kept.append(
                    f"{getattr(Customer._meta.get_field(name), 'verbose_name', name)}: {data.pop(name)}"
                )
            elif code:
                data[name] = code
            else:
                data.pop(name)
    if kind == "company":
        data.pop("given_name", None)
        data.pop("family_name", None)
        data.pop("gender", None)
        data.pop("birth_date", None)
        if not data.get("legal_name"):
            data["legal_name"] = record.get("company_name") or record.get("display_name") or ""
    else:
        for name in ("legal_name", "industry", "founded_date", "registration_number"):
            data.pop(name, None)
    owner = catalogue.owner(str(record["owner"])) if record.get("owner") else None
    if record.get("owner") and owner is None:  # not lost: the other system's owner goes in the notes
        kept.append(_("Account manager in the other system: %(name)s") % {"name": record["owner"]})
    if owner or options.owner_id:
        data["owner"] = owner or options.owner_id
    notes = "\n".join(filter(None, [_notes(record), *kept]))
    if notes:
        data["notes"] = notes
    return data


def _classification(record: dict[str, Any], catalogue: _Catalogue) -> tuple[list[int], list[int]]:
    errors: dict[str, str] = {}
    categories, roles = [], []
    for name in record.get("categories") or []:
        pk = catalogue.categories.get(str(name).casefold())
        if pk is None:
            errors["categories"] = _("Unknown category “%(name)s”.") % {"name": name}
        else:
            categories.append(pk)
    for name in record.get("roles") or []:
        pk = catalogue.roles.get(str(name).casefold())
        if pk is None:
            errors["roles"] = _("Unknown role “%(name)s”.") % {"name": name}
        else:
            roles.append(pk)
    if errors:
        raise _Rejected(errors)
    return categories, roles


def _contact_lists(
    record: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    phones = [
        {"number": p.get("number"), "label": p.get("label") or "other", "is_primary": bool(p.get("primary"))}
        for p in record.get("phones") or []
        if p.get("number")
    ]
    emails = [
        {
            "address": e.get("address"),
            "label": {"home": "personal"}.get(str(e.get("label")), e.get("label") or "other"),
            "is_primary": bool(e.get("primary")),
        }
        for e in record.get("emails") or []
        if e.get("address")
    ]
    addresses = [
        {k: a.get(k) or "" for k in ("label", "line1", "line2", "postal_code", "city", "region", "country")}
        for a in record.get("addresses") or []
        if a.get("line1") or a.get("city")
    ]
    for address in addresses:
        _country(address)
        label = {"work": "office"}.get(address["label"], address["label"])
        address["label"] = label if label in ("office", "home", "billing", "shipping") else "other"
        if not address["line1"]:
            address["line1"] = address["city"]
    return phones, emails, addresses


_COUNTRIES = {
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.a.": "US", "u.s.": "US", "america": "US",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "gbr": "GB", "germany": "DE", "deutschland": "DE", "deu": "DE", "france": "FR", "fra": "FR", "china": "CN",
    "people's republic of china": "CN", "chn": "CN", "中国": "CN", "中华人民共和国": "CN", "hong kong": "HK",
    "香港": "HK", "taiwan": "TW", "台湾": "TW", "japan": "JP", "日本": "JP", "korea": "KR", "south korea": "KR",
    "韩国": "KR", "india": "IN", "canada": "CA", "australia": "AU", "new zealand": "NZ", "ireland": "IE",
    "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT", "netherlands": "NL", "the netherlands": "NL",
    "belgium": "BE", "switzerland": "CH", "schweiz": "CH", "austria": "AT", "österreich": "AT", "sweden": "SE",
    "norway": "NO", "denmark": "DK", "finland": "FI", "poland": "PL", "portugal": "PT", "brazil": "BR",
    "brasil": "BR", "mexico": "MX", "méxico": "MX", "singapore": "SG", "新加坡": "SG", "russia": "RU",
    "south africa": "ZA", "nigeria": "NG", "united arab emirates": "AE", "美国": "US", "英国": "GB",
    "德国": "DE", "法国": "FR",
}  # fmt: skip


def _country(address: dict[str, Any]) -> None:
    """The country as an ISO code; a name we do not know is kept after the region, not lost."""
    text = str(address.get("country") or "").strip()
    code = text.upper() if len(text) == 2 and text.isalpha() else _COUNTRIES.get(text.casefold(), "")
    if text and not code:
        address["region"] = ", ".join(p for p in (str(address.get("region") or ""), text) if p)[:100]
    address["country"] = code


def _snapshot(customer: Customer) -> dict[str, Any]:
    """What an update may change, as it was (for the undo)."""
    return {
        "data": {
            name: (value.isoformat() if hasattr(value, "isoformat") else value)
            for name in (*_SCALARS, "notes")
            if (value := getattr(customer, name, None)) not in (None, "")
        },
        "owner": customer.owner_id,
        **contact_items(customer),
        "custom": dict(customer.custom_data or {}),
        "categories": [c.pk for c in customer.categories.all()],  # .all(): read ahead for a batch
        "tags": [t.name for t in customer.tags.all()],
        "roles": [r.pk for r in customer.roles.all()],
    }


def _union(
    existing: list[dict[str, Any]], new: list[dict[str, Any]], key: Any
) -> list[dict[str, Any]] | None:
    """The existing items plus the new ones not already there; None when nothing is added."""
    seen = {key(item) for item in existing}
    added = [item for item in new if key(item) not in seen]
    if not added:
        return None
    if any(i.get("is_primary") for i in existing):
        for item in added:
            item["is_primary"] = False
    return existing + added


def _added(existing: list[Any], new: list[Any]) -> list[Any] | None:
    """The existing items and the new ones, when there are new ones; None when nothing is added."""
    if not set(new) - set(existing):
        return None
    return sorted(set(existing) | set(new), key=str)


def _phone_key(region: str) -> Any:
    def key(item: dict[str, Any]) -> str:
        try:
            return normalise_phone(str(item.get("number") or ""), region=region or None)[0]
        except ValidationError:
            return str(item.get("number"))

    return key


_Applied = tuple[str, Customer | None, str, dict[str, Any] | None]


def _apply(
    actor: Any,
    record: dict[str, Any],
    options: Options,
    catalogue: _Catalogue,
    matcher: _Matcher,
    pending: _Pending,
    row_number: int,
    added: dict[str, list[int]],
) -> _Applied | Callable[[], _Applied]:
    """Match and check one record, writing nothing: what happened (skipped, unchanged, or a new customer
    held in ``pending``), or the writes still to do, a function the caller runs in a savepoint. What
    happened is (action, customer, how it matched, values before an update); the ids of relationships and
    yearly dates the writes add to a customer that was there before go into ``added``."""
    chosen = options.row_actions.get(str(row_number))  # the user's choice for this row, over the rules
    if chosen == SKIP:
        return ("skipped", None, "", None)
    if record.get("problems"):
        raise _Rejected(dict(record["problems"]))
    matched, how = matcher.exact(record)
    rule_name = "exact"
    if len(matched) > 1:
        numbers = ", ".join(
            Customer.objects.filter(pk__in=matched).values_list("customer_number", flat=True)[:5]
        )
        raise _Rejected({"__all__": _("Matches several customers (%(numbers)s).") % {"numbers": numbers}})
    skip = (chosen or options.rules["exact"]) == SKIP
    target = matcher.customer(next(iter(matched)), full=not skip) if matched else None
    if target is None and options.rules["fuzzy"] != CREATE:  # with "create" a close name changes nothing
        rule_name = "fuzzy"
        pk, score = matcher.fuzzy(record)
        if pk is not None:
            target = matcher.customer(pk, full=(chosen or options.rules["fuzzy"]) != SKIP)
            how = _("name %(score)d") % {"score": score}
    action = (chosen or options.rules[rule_name]) if target is not None else CREATE
    if action == SKIP:
        return ("skipped", target, how, None)
    kind = (
        record.get("kind")
        or (target.kind if target is not None and action != CREATE else "")
        or options.default_kind
    )
    if kind not in ("person", "company"):
        raise _Rejected(
            {"kind": _("Cannot tell a person from a company: map a name, a company or the kind.")}
        )
    data = _data(record, kind, catalogue, options)
    category_ids, role_ids = _classification(record, catalogue)
    phones, emails, addresses = _contact_lists(record)
    custom = {k: v for k, v in (record.get("custom") or {}).items() if v not in (None, "")}
    tags = [str(t) for t in record.get("tags") or [] if str(t).strip()]
    if action == CREATE or target is None:
        item = customers.NewCustomer(
            kind,
            data,
            phones,
            emails,
            addresses,
            custom,
            category_ids or None,
            tags or None,
            role_ids or None,
        )
        prepared = customers.customer_prepare(actor=actor, item=item, definitions=catalogue.definitions)
        if not record.get("related") and not record.get("birthday_without_year"):
            pending.add(row_number, record, prepared)  # written with the rest of the batch
            return ("created", prepared.customer, how, None)  # not saved yet: no pk

        def create() -> _Applied:
            customer = customers.customers_create(prepared=[prepared])[0]
            _relate(actor, customer, record, catalogue)
            _yearly_birthday(actor, customer, record)
            return "created", customer, how, None

        return create
    if target.kind != kind and record.get("kind"):
        raise _Rejected(
            {
                "kind": _("Matches %(number)s, which is a %(kind)s.")
                % {"number": target.customer_number, "kind": target.get_kind_display()}
            }
        )
    before = _snapshot(target)
    if action == MERGE:
        data = {
            k: v
            for k, v in data.items()
            if k not in before["data"] and not (k == "owner" and before["owner"])
        }
        if "notes" in data and before["data"].get("notes"):
            data.pop("notes")
        custom = {k: v for k, v in custom.items() if before["custom"].get(k) in (None, "")}
    elif "notes" in data and before["data"].get("notes"):
        if data["notes"] in before["data"]["notes"]:
            data.pop("notes")  # already there (the same file imported again)
        else:
            data["notes"] = f"{before['data']['notes']}\n{data['notes']}"
    data = {
        k: v
        for k, v in data.items()
        if (before["owner"] != v if k == "owner" else str(before["data"].get(k, "")) != str(v))
    }
    custom = {k: v for k, v in custom.items() if str(before["custom"].get(k, "")) != str(v)}
    changes: dict[str, Any] = {
        "phones": _union(before["phones"], phones, _phone_key(matcher.region)),
        "emails": _union(before["emails"], emails, lambda e: str(e.get("address") or "").casefold()),
        "addresses": _union(
            before["addresses"],
            addresses,
            lambda a: (str(a.get("line1")).casefold(), str(a.get("city")).casefold()),
        ),
        "custom": custom or None,
        "category_ids": _added(before["categories"], category_ids),
        "tag_names": _added(before["tags"], tags),
        "role_ids": _added(before["roles"], role_ids),
    }
    found: Customer = target
    if not data and all(value is None for value in changes.values()):
        # nothing new: no write, no new version, no audit entry (but relationships and yearly dates)
        if not record.get("related") and not record.get("birthday_without_year"):
            return ("unchanged", found, how, None)

        def add_only() -> _Applied:
            added[RELATIONSHIPS] = _relate(actor, found, record, catalogue)
            added[SPECIAL_DATES] = _yearly_birthday(actor, found, record)
            return "unchanged", found, how, None

        return add_only

    def update() -> _Applied:
        customer = customers.customer_update(
            actor=actor, customer=found, expected_version=found.version, data=data, **changes
        )
        added[RELATIONSHIPS] = _relate(actor, customer, record, catalogue)
        added[SPECIAL_DATES] = _yearly_birthday(actor, customer, record)
        return ("merged" if action == MERGE else "updated"), customer, how, before

    return update


RELATIONSHIPS, SPECIAL_DATES = "relationships", "special_dates"  # what an ADDED change lists


def _relate(actor: Any, customer: Customer, record: dict[str, Any], catalogue: _Catalogue) -> list[int]:
    """The relationships the record names, added (the ids of those new)."""
    added: list[int] = []
    for code, number in record.get("related") or []:
        other = customers_for(actor).filter(customer_number=str(number).strip()).first()
        if other is None:
            raise _Rejected({f"related:{code}": _("No customer numbered %(number)s.") % {"number": number}})
        try:
            relationship = customers.relationship_add(
                actor=actor, type=catalogue.types[code], from_customer=customer, to_customer=other
            )
        except ValidationError as exc:
            if "already recorded" in " ".join(exc.messages):
                continue  # importing the same file again
            raise
        added.append(relationship.pk)
    return added


def _yearly_birthday(actor: Any, customer: Customer, record: dict[str, Any]) -> list[int]:
    """A birthday given without a year (Google, vCard ``--MM-DD``) is not a birth date: it becomes a yearly
    special date, so it still shows among the anniversaries."""
    month_day = str(record.get("birthday_without_year") or "")
    if not month_day or customer.birth_date:
        return []
    month, day = (int(part) for part in month_day.split("-"))
    label = _("Birthday")
    if customer.special_dates.filter(kind="custom", label=label, month=month, day=day).exists():
        return []
    added = customers.special_date_add(
        actor=actor, customer=customer, kind="custom", month=month, day=day, label=label
    )
    return [added.pk]


class _Pending:
    """The customers a batch creates, checked and held back to be written together: one block of numbers
    and one insert per table instead of a dozen statements per row. A row that would match one of them
    (same phone, email or a close name) first has them written, so a file naming one person twice still
    makes one customer. A dry run writes nothing."""

    def __init__(self, matcher: _Matcher, *, job: Job | None, dry_run: bool) -> None:
        self.matcher, self.job, self.dry_run = matcher, job, dry_run
        self.items: list[tuple[int, dict[str, Any], customers.PreparedCustomer]] = []
        self.failed: list[Outcome] = []  # rows whose write failed after all (reported by the caller)

    def add(self, row: int, record: dict[str, Any], prepared: customers.PreparedCustomer) -> None:
        self.items.append((row, record, prepared))
        self.matcher.hold(record)

    def write(self) -> None:
        items, self.items = self.items, []
        self.matcher.release()
        if not items or self.dry_run:
            return
        written: list[Customer | None] = []
        try:
            with transaction.atomic():
                written += customers.customers_create(prepared=[p for _r, _rec, p in items])
        except (IntegrityError, ValidationError):  # find the row at fault: each alone
            written = []
            for row, _record, prepared in items:
                try:
                    with transaction.atomic():
                        written += customers.customers_create(prepared=[prepared])
                except (IntegrityError, ValidationError) as exc:
                    written.append(None)
                    errors = _flat_errors(exc) if isinstance(exc, ValidationError) else {"__all__": str(exc)}
                    self.failed.append(Outcome(row=row, action="rejected", errors=errors))
        changes = []
        for (row, record, _prepared), customer in zip(items, written, strict=True):
            if customer is None:
                continue
            self.matcher.learn(record, customer)
            if self.job is not None:
                changes.append(
                    ImportChange(
                        job=self.job,
                        row=row,
                        customer_id=customer.pk,
                        action=ImportChange.CREATED,
                        version_after=customer.version,
                        before="",
                    )
                )
        ImportChange.objects.bulk_create(changes)


def process_row(
    actor: Any,
    row_number: int,
    record: dict[str, Any],
    options: Options,
    catalogue: _Catalogue,
    pending: _Pending,
    *,
    dry_run: bool = False,
    job: Job | None = None,
) -> Outcome:
    """Apply one record. Matching and every check come first and write nothing; only the writes (an update,
    or a new customer with relationships or a yearly date) run in a savepoint, rolled back on a rejection
    and always on a dry run. A new customer with nothing more is held in ``pending`` (written with its
    batch): it needs no savepoint of its own (one a row cost two statements a row)."""

    class _DryRun(Exception):
        pass

    matcher = pending.matcher
    if pending.items and matcher.touches_held(record):
        pending.write()  # outside the row's savepoint: a rejected row must not undo them
    outcome = Outcome(row=row_number, action="rejected")
    try:
        added: dict[str, list[int]] = {}
        step = _apply(actor, record, options, catalogue, matcher, pending, row_number, added)
        if not callable(step):  # nothing to write now
            action, customer, how, _before = step
            return Outcome(row=row_number, action=action, customer=customer, match=how)
        with transaction.atomic():
            action, customer, how, before = step()
            outcome = Outcome(row=row_number, action=action, customer=customer, match=how)
            written = customer if customer is not None and customer.pk is not None else None
            if not dry_run and written is not None and action in ("created", "updated", "merged"):
                matcher.learn(record, written)
            if (
                job is not None
                and not dry_run
                and written is not None
                and action not in ("skipped", "unchanged")
            ):
                ImportChange.objects.create(
                    job=job,
                    row=row_number,
                    customer_id=written.pk,
                    action=ImportChange.CREATED if action == "created" else ImportChange.UPDATED,
                    version_after=written.version,
                    before=seal(json.dumps(before, default=str), _BEFORE_LABEL) if before is not None else "",
                )
            if job is not None and not dry_run and written is not None and any(added.values()):
                ImportChange.objects.create(  # undone apart: the customer's version does not move
                    job=job,
                    row=row_number,
                    customer_id=written.pk,
                    action=ImportChange.ADDED,
                    version_after=written.version,
                    before=json.dumps(added),
                )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except _Rejected as exc:
        outcome = Outcome(row=row_number, action="rejected", errors=exc.errors)
    except ValidationError as exc:
        outcome = Outcome(row=row_number, action="rejected", errors=_flat_errors(exc))
    except (PermissionDenied, ConflictError) as exc:
        outcome = Outcome(
            row=row_number, action="rejected", errors={"__all__": str(exc) or _("Not allowed.")}
        )
    return outcome


# --- preview ----------------------------------------------------------------------------------------------


@dataclass
class Preview:
    table: Table
    preset: str | None
    mapping: dict[str, str]
    rows: list[tuple[dict[str, str], Outcome]]
    default_kind: str = ""  # what the rows are when they do not say: known from the recognised layout


# the kind of customer a recognised export holds (rows without a name of their own still are one)
PRESET_KINDS = {"salesforce_account": "company"}


def preset_kind(preset: str | None) -> str:
    return PRESET_KINDS.get(preset or "", "person") if preset else ""


def preview(
    *, actor: Any, upload: str, filename: str = "", options: Options | None = None, limit: int = PREVIEW_ROWS
) -> Preview:
    """The first rows read with the mapping and checked as a dry run: what would happen to each, and the
    errors per cell."""
    require_permission(actor, "customer", IMPORT)
    table = read_upload(upload, filename=filename)
    custom = list(CustomFieldDefinition.objects.filter(is_active=True).values_list("key", "label"))
    preset, suggested = presets.suggest_mapping(table.columns, custom)
    chosen = options is not None and any(options.mapping.values())
    options = options or Options(mapping=suggested, default_kind=preset_kind(preset))
    if not options.mapping:
        options.mapping = suggested
    if not chosen and not any(options.mapping.values()):
        # columns nothing was recognised in: the user maps them first (no rows to check yet)
        return Preview(
            table=table, preset=preset, mapping=options.mapping, rows=[], default_kind=options.default_kind
        )
    check_options(options, table.columns)
    catalogue = _Catalogue()
    region = settings.KITH_DEFAULT_REGION
    read = []
    for number, raw in enumerate(table.rows(), start=1):
        if number > limit:
            break
        read.append((number, raw, _as_dict(to_record(raw, options.mapping, default_region=region))))
    matcher = _matcher(actor, [record for _n, _raw, record in read], options, region)
    pending = _Pending(matcher, job=None, dry_run=True)
    rows = [
        (raw, process_row(actor, number, record, options, catalogue, pending, dry_run=True))
        for number, raw, record in read
    ]
    return Preview(
        table=table, preset=preset, mapping=options.mapping, rows=rows, default_kind=options.default_kind
    )


def _as_dict(record: Any) -> dict[str, Any]:
    return record if isinstance(record, dict) else dict(vars(record))


# --- the job ------------------------------------------------------------------------------------------------


def start_import(
    *,
    actor: Any,
    upload: str,
    filename: str,
    options: Options,
    source: str | None = None,
    enqueue: bool = True,
) -> Job:
    require_permission(actor, "customer", IMPORT)
    table = read_upload(upload, filename=filename)
    check_options(options, table.columns)
    title = (_("Import check of %(file)s") if options.dry_run else _("Import of %(file)s")) % {
        "file": filename or upload
    }
    return jobs.start(
        JOB_KIND,
        actor=actor,
        params={"upload": upload, "filename": filename, **options.as_params()},
        title=title,
        source=source,
        enqueue=enqueue,
    )


_ERROR_HEADER_EXTRA = ("row", "reason")


def run_import(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    actor = job.owner
    require_permission(actor, "customer", IMPORT)
    options = Options.from_params(job.params)
    table = read_upload(job.params["upload"], filename=job.params.get("filename", ""))
    check_options(options, table.columns)
    catalogue = _Catalogue()
    region = settings.KITH_DEFAULT_REGION
    state = dict(job.result.get("checkpoint") or {})  # a resumed run: where the last committed batch ended
    done_rows = int(state.get("rows", 0))
    counts: dict[str, int] = dict(state.get("counts") or {})
    progress.set_total(sum(1 for _row in table.rows()))
    errors_path = progress.work_file(".csv", resumable=True)
    with errors_path.open("r+b") as raw:  # what a killed run wrote after its last committed batch goes
        raw.truncate(int(state.get("errors_bytes", 0)) if done_rows else 0)
    handle = errors_path.open("a", newline="", encoding="utf-8-sig")  # the byte-order mark only at the start
    writer = csv.writer(handle)
    if not done_rows:
        writer.writerow([safe_cell(c) for c in (*table.columns, *_ERROR_HEADER_EXTRA)])
    progress.advance(done_rows)
    batch: list[tuple[int, dict[str, str]]] = []

    def flush() -> None:
        nonlocal done_rows
        if not batch:
            return
        with audit_context(source="import", actor=actor), transaction.atomic():
            records = {
                number: _as_dict(to_record(raw_row, options.mapping, default_region=region))
                for number, raw_row in batch
                if "__error__" not in raw_row and "__extra__" not in raw_row
            }
            pending = _Pending(
                _matcher(actor, records.values(), options, region), job=job, dry_run=options.dry_run
            )
            outcomes: dict[int, Outcome] = {}
            for number, raw_row in batch:
                if number not in records:
                    reason = raw_row.get("__error__") or _(
                        "The row has more values than the header has columns."
                    )
                    outcomes[number] = Outcome(row=number, action="rejected", errors={"__all__": str(reason)})
                else:
                    outcomes[number] = process_row(
                        actor,
                        number,
                        records[number],
                        options,
                        catalogue,
                        pending,
                        dry_run=options.dry_run,
                        job=job,
                    )
            pending.write()
            outcomes.update((failed.row, failed) for failed in pending.failed)
            for number, raw_row in batch:
                outcome = outcomes[number]
                counts[outcome.action] = counts.get(outcome.action, 0) + 1
                if outcome.action == "rejected":
                    writer.writerow(
                        [safe_cell(raw_row.get(c, "")) for c in table.columns]
                        + [str(number), safe_cell(outcome.reason)]
                    )
            handle.flush()
            done_rows = batch[-1][0]
            checkpoint = {"rows": done_rows, "counts": counts, "errors_bytes": errors_path.stat().st_size}
            Job.objects.filter(pk=job.pk).update(result={"checkpoint": checkpoint})
        progress.advance(len(batch))
        batch.clear()

    try:
        for number, raw_row in enumerate(table.rows(), start=1):
            if number <= done_rows:
                continue
            batch.append((number, raw_row))
            if len(batch) >= BATCH:
                flush()
        flush()
    finally:
        handle.close()
    stem = Path(job.params.get("filename") or "import").stem
    if not counts.get("rejected"):
        progress.drop(errors_path)  # nothing rejected: no file to offer
    return {
        "rows": done_rows,
        "counts": counts,
        "dry_run": options.dry_run,
        "rejected": counts.get("rejected", 0),
        "download_name": f"{stem}-rejected-rows.csv",
    }


# --- undo ---------------------------------------------------------------------------------------------------


def _per_customer(job: Job) -> dict[int, tuple[ImportChange, int]]:
    """Per customer the import touched: its first change (what to undo back to) and the version its last
    change left (a row may touch a customer an earlier row created or changed)."""
    out: dict[int, tuple[ImportChange, int]] = {}
    changes = ImportChange.objects.filter(job=job).exclude(action=ImportChange.ADDED)
    for change in changes.order_by("row").iterator(chunk_size=2000):
        first = out.get(change.customer_id, (change, 0))[0]
        out[change.customer_id] = (first, change.version_after)
    return out


def undo_conflicts(job: Job, touched: dict[int, tuple[ImportChange, int]] | None = None) -> list[str]:
    """Numbers of the customers changed (or deleted) since the import: while there are any, no undo."""
    touched = _per_customer(job) if touched is None else touched
    versions = dict(Customer.objects.filter(pk__in=list(touched)).values_list("pk", "version"))
    stale = [pk for pk, (_first, last) in touched.items() if versions.get(pk) != last]
    numbers = dict(Customer.objects.filter(pk__in=stale).values_list("pk", "customer_number"))
    return [numbers.get(pk, f"#{pk}") for pk in stale]


def start_undo(*, actor: Any, job: Job, source: str | None = None) -> Job:
    if job.kind != JOB_KIND or job.status != JobStatus.SUCCEEDED or job.params.get("dry_run"):
        raise ValidationError(_("Only a finished import (not a check) can be undone."))
    if job.result.get("undone"):
        raise ValidationError(_("This import was undone already."))
    require_permission(actor, "customer", IMPORT)
    if not (actor.is_superuser or actor.pk == job.owner_id):
        raise PermissionDenied(_("Only the user who imported the file can undo it."))
    conflicts = undo_conflicts(job)
    if conflicts:
        raise ValidationError(
            _("These customers changed after the import, so it cannot be undone: %(numbers)s.")
            % {"numbers": ", ".join(conflicts[:20]) + (" …" if len(conflicts) > 20 else "")}
        )
    return jobs.start(
        UNDO_KIND,
        actor=actor,
        params={"import_job": job.pk},
        title=_("Undo: %(title)s") % {"title": job.title},
        source=source,
    )


def _restore(actor: Any, customer: Customer, before: dict[str, Any], version: int) -> None:
    data = {name: before["data"].get(name, "") for name in (*_SCALARS, "notes")}
    data["owner"] = before["owner"]
    customers.customer_update(
        actor=actor,
        customer=customer,
        expected_version=version,
        data=data,
        phones=before["phones"],
        emails=before["emails"],
        addresses=before["addresses"],
        custom={k: before["custom"].get(k) for k in set(before["custom"]) | set(customer.custom_data or {})},
        category_ids=before["categories"],
        tag_names=before["tags"],
        role_ids=before["roles"],
    )


def run_undo(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    actor = job.owner
    require_permission(actor, "customer", IMPORT)  # it may have been withdrawn since the undo was asked for
    imported = Job.objects.get(pk=job.params["import_job"])
    touched = _per_customer(imported)
    progress.set_total(len(touched))
    with audit_context(source="import", actor=actor), transaction.atomic():
        conflicts = undo_conflicts(imported, touched)
        if conflicts:
            raise ValidationError(
                _("These customers changed after the import, so it cannot be undone: %(numbers)s.")
                % {"numbers": ", ".join(conflicts[:20])}
            )
        removed = _remove_added(actor, imported)
        deleted = restored = 0
        ids = list(touched)
        for start in range(0, len(ids), 500):
            batch = Customer.objects.in_bulk(ids[start : start + 500])
            for pk, customer in batch.items():
                first, last_version = touched[pk]
                if first.action == ImportChange.CREATED:
                    try:
                        customers.customer_delete(actor=actor, customer=customer)
                    except DeleteRefused as exc:
                        raise ValidationError(str(exc)) from exc
                    deleted += 1
                else:  # back to how it was before the import's first change to it
                    _restore(
                        actor, customer, json.loads(open_token(first.before, _BEFORE_LABEL)), last_version
                    )
                    restored += 1
                progress.advance()
        Job.objects.filter(pk=imported.pk).update(
            result={**imported.result, "undone": True, "undone_by_job": job.pk}
        )
    return {"deleted": deleted, "restored": restored, "removed": removed}


def _remove_added(actor: Any, imported: Job) -> int:
    """Take away the relationships and yearly dates the import added to customers that were there before
    it (those still there); how many were taken away."""
    relationship_ids: list[int] = []
    date_ids: list[int] = []
    for before in ImportChange.objects.filter(job=imported, action=ImportChange.ADDED).values_list(
        "before", flat=True
    ):
        listed = json.loads(before or "{}")
        relationship_ids += listed.get(RELATIONSHIPS, [])
        date_ids += listed.get(SPECIAL_DATES, [])
    removed = 0
    for relationship in Relationship.objects.filter(pk__in=relationship_ids).select_related("from_customer"):
        customers.relationship_remove(actor=actor, relationship=relationship)
        removed += 1
    for special_date in SpecialDate.objects.filter(pk__in=date_ids).select_related("customer"):
        customers.special_date_remove(actor=actor, special_date=special_date)
        removed += 1
    return removed
