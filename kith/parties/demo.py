"""Demo data: realistic, reproducible customers with contact points, classification, relationships,
interactions on the timeline and special dates, loaded in bulk.

The same seed (and the same options) gives the same data: every chunk of customers draws from its own
``random.Random`` derived from the seed and the chunk's position, and the Faker pools are seeded too.
Only what depends on the clock moves with the day it runs: interactions are spread over the three years
before the load, and a few customers of every account manager get an anniversary in the coming week.

Rows are written with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) in chunks of ``CHUNK_SIZE``
customers, one transaction each, with the values the services would store: customer numbers from the
numbering service, phones in E.164 with their national significant number (both encrypted, with their
blind indexes: ``kith.core.crypto``), encrypted birth dates, email keys, search keys from ``name_keys``,
derived birthdays (day and month; the year stays in the encrypted birth date) and founding days. The interactions and their timeline entries (most of the
rows) are made by the database itself, ``INSERT … SELECT`` from the chunk's customers (``_InteractionSql``).
Large loads drop the secondary indexes (and PostgreSQL's foreign keys) and build them again at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

import phonenumbers
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core import crypto
from kith.core.models import TimelineEntry
from kith.parties.choices import (
    AddressLabel,
    Channel,
    CompanySize,
    CustomerKind,
    CustomerStatus,
    CustomFieldType,
    EmailLabel,
    Gender,
    InteractionKind,
    KindScope,
    MaritalStatus,
    Outcome,
    PhoneLabel,
    Source,
    SpecialDateKind,
)
from kith.parties.models import (
    Address,
    Category,
    CategoryTree,
    Customer,
    CustomFieldDefinition,
    Email,
    Interaction,
    PartyRole,
    Phone,
    Relationship,
    RelationshipType,
    SpecialDate,
    Tag,
)
from kith.parties.services import catalogues
from kith.parties.services.customers import _person_display_name
from kith.parties.services.interactions import timeline_kind
from kith.parties.services.numbering import allocate_customer_numbers
from kith.parties.services.search_index import bulk_loading
from kith.parties.services.search_keys import fold, name_keys

CHUNK_SIZE = 10_000  # part of what "the same seed" means: chunks draw from their own random streams
DEFAULT_USERS = 10
DEFAULT_INTERACTIONS = 5.0
HISTORY_DAYS = 3 * 365
POOL_SIZE = 600  # names, companies and addresses drawn per locale
GUARANTEED_ANNIVERSARIES = 3  # per account manager, in the seven days from the day of the load

# locale, country, currency, share of customers
LOCALES: tuple[tuple[str, str, str, int], ...] = (
    ("en_US", "US", "USD", 26),
    ("zh_CN", "CN", "CNY", 24),
    ("de_DE", "DE", "EUR", 16),
    ("en_GB", "GB", "GBP", 14),
    ("fr_FR", "FR", "EUR", 10),
    ("ja_JP", "JP", "JPY", 10),
)

# Mobile numbers: country code, national significant number length and the shapes of its first digits
# ("#" a digit). Stems are checked with phonenumbers once; the last four digits never change validity.
_PHONE_PLANS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "US": ("1", 10, ("212#", "213#", "305#", "312#", "415#", "512#", "617#", "646#", "206#", "303#")),
    "CN": ("86", 11, ("13##", "15##", "18##", "17##", "19##")),
    "DE": ("49", 11, ("151#", "152#", "157#", "160#", "170#", "171#", "172#", "176#", "179#")),
    "GB": ("44", 10, ("71##", "73##", "74##", "75##", "77##", "78##", "79##")),
    "FR": ("33", 9, ("6###", "7###")),
    "JP": ("81", 10, ("90##", "80##", "70##")),
}

_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")


@dataclass
class DemoResult:
    customers: int = 0
    persons: int = 0
    companies: int = 0
    phones: int = 0
    emails: int = 0
    addresses: int = 0
    interactions: int = 0
    relationships: int = 0
    special_dates: int = 0
    managers: int = 0
    seconds: float = 0.0
    first_number: str = ""
    last_number: str = ""

    @property
    def per_second(self) -> float:
        return self.customers / self.seconds if self.seconds else 0.0


# --- pools ------------------------------------------------------------------------------------


@dataclass(eq=False)
class _LocalePool:
    locale: str
    country: str
    currency: str
    female: list[tuple[str, str]]  # (name, romanised)
    male: list[tuple[str, str]]
    family: list[tuple[str, str]]
    companies: list[tuple[str, str, str]]  # (legal name, short name or "", slug for email/web)
    addresses: list[tuple[str, str, str, str, str]]  # line1, line2, postal code, city, region
    phone_stems: list[str]  # "+<cc><first digits>": four more digits make a valid number
    phone_national_offset: int  # len("+<cc>")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", fold(text))
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum()))


def _romanise(text: str) -> str:
    """ASCII letters for an email address: pinyin for Chinese characters, accents dropped."""
    full, _initials = name_keys(text)[1:]
    return _ascii(full) if full else _ascii(text)


def _phone_stems(rng: random.Random, country: str) -> tuple[list[str], int]:
    cc, length, shapes = _PHONE_PLANS[country]
    stems: set[str] = set()
    attempts = 0
    while len(stems) < 120 and attempts < 5000:
        attempts += 1
        shape = shapes[rng.randrange(len(shapes))]
        head = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in shape)
        head += "".join(str(rng.randrange(10)) for _ in range(length - 4 - len(head)))
        if country == "US" and (head[3] in "01" or head[4:6] == "11" or head[3:6] == "555"):
            continue  # exchanges cannot start with 0/1; N11 and 555 are service codes
        if all(
            phonenumbers.is_valid_number(phonenumbers.parse(f"+{cc}{head}{tail}"))
            for tail in ("0000", "5555", "9999")
        ):
            stems.add(f"+{cc}{head}")
    return sorted(stems), len(cc) + 1


def _build_pool(locale: str, country: str, currency: str, seed: int) -> _LocalePool:
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    rng = random.Random(f"{seed}-{locale}")

    def pairs(kind: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for _i in range(POOL_SIZE):
            if locale == "ja_JP":
                name, _kana, roman = getattr(fake, f"{kind}_pair")()
                out.append((name, _ascii(roman)))
            else:
                name = getattr(fake, kind)()
                out.append((name, _romanise(name)))
        return out

    female = pairs("first_name_female")
    male = pairs("first_name_male")
    family = pairs("last_name")
    companies: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for i in range(POOL_SIZE * 2):
        legal = fake.company()[:200]
        if legal in seen:
            continue
        seen.add(legal)
        short = ""
        if locale == "zh_CN" and i % 2 == 0:
            short = fake.company_prefix()
        elif locale not in ("zh_CN", "ja_JP") and i % 3 == 0:
            short = legal.replace(",", " ").split()[0]
        slug = (_romanise(short or legal) or f"company{i}")[:30]
        companies.append((legal, short, slug))
        if len(companies) >= POOL_SIZE:
            break
    addresses: list[tuple[str, str, str, str, str]] = []
    for i in range(POOL_SIZE):
        if locale == "ja_JP":
            line1 = f"{fake.town()}{fake.chome()}{fake.ban()}{fake.gou()}"
            addresses.append((line1, "", fake.zipcode(), fake.city(), fake.prefecture()))
        elif locale == "zh_CN":
            line1 = f"{fake.district()}区{fake.street_name()}{fake.building_number()}"
            addresses.append((line1, "", fake.postcode(), fake.city(), fake.province()))
        else:
            region = ""
            if locale == "en_US":
                region = fake.state_abbr()
            elif locale == "de_DE":
                region = fake.state()
            elif locale == "fr_FR":
                region = fake.region()
            elif locale == "en_GB":
                region = fake.county()
            line2 = fake.secondary_address() if locale == "en_US" and i % 5 == 0 else ""
            addresses.append((fake.street_address(), line2, fake.postcode(), fake.city(), region))
    addresses = [(a[:200], b[:200], c[:20], d[:100], e[:100]) for a, b, c, d, e in addresses]  # column sizes
    stems, offset = _phone_stems(rng, country)
    return _LocalePool(locale, country, currency, female, male, family, companies, addresses, stems, offset)


@lru_cache(maxsize=4)
def _pools(seed: int) -> tuple[_LocalePool, ...]:
    return tuple(_build_pool(loc, country, cur, seed) for loc, country, cur, _w in LOCALES)


# --- catalogues ---------------------------------------------------------------------------------


@dataclass
class _Catalogue:
    industries: list[tuple[int, str]] = field(default_factory=list)  # (category id, leaf name)
    tiers: list[int] = field(default_factory=list)  # Platinum, Gold, Silver, Bronze
    tags: list[int] = field(default_factory=list)
    roles: dict[str, int] = field(default_factory=dict)
    relationship_types: dict[str, int] = field(default_factory=dict)


_INDUSTRIES = {
    "Telecom": ("Mobile", "Fixed line", "Broadband"),
    "Retail": ("Grocery", "Fashion", "Electronics retail"),
    "Manufacturing": ("Automotive", "Machinery", "Chemicals"),
    "Finance": ("Banking", "Insurance"),
    "Software": ("SaaS", "Consulting"),
    "Healthcare": ("Hospitals", "Pharmaceuticals"),
    "Logistics": (),
}


def _ensure_catalogues() -> _Catalogue:
    """Create what the demo needs through the catalogue services, reusing whatever exists already."""
    result = _Catalogue()
    fields: list[dict[str, Any]] = [
        {"key": "loyalty_points", "label": _("Loyalty points"), "field_type": CustomFieldType.INTEGER,
         "min_value": 0},
        {"key": "preferred_language", "label": _("Preferred language"), "field_type": CustomFieldType.CHOICE,
         "choices": ["English", "Deutsch", "Français", "中文", "日本語"]},
        {"key": "newsletter", "label": _("Newsletter"), "field_type": CustomFieldType.BOOLEAN},
        {"key": "interests", "label": _("Interests"), "field_type": CustomFieldType.MULTI_CHOICE,
         "applies_to": KindScope.PERSON,
         "choices": ["Sports", "Travel", "Technology", "Cooking", "Music", "Art"]},
        {"key": "credit_limit", "label": _("Credit limit"), "field_type": CustomFieldType.DECIMAL,
         "applies_to": KindScope.COMPANY, "min_value": 0},
        {"key": "contract_renewal", "label": _("Contract renewal"), "field_type": CustomFieldType.DATE,
         "applies_to": KindScope.COMPANY},
        {"key": "website", "label": _("Web site"), "field_type": CustomFieldType.URL,
         "applies_to": KindScope.COMPANY},
    ]  # fmt: skip
    existing_keys = set(CustomFieldDefinition.objects.values_list("key", flat=True))
    for position, data in enumerate(fields):
        if data["key"] not in existing_keys:
            catalogues.custom_field_create(actor=None, data={**data, "position": 100 + position})

    industry = _tree(_("Industry"), description=_("What the company does"), allow_multiple=True)
    for top, leaves in _INDUSTRIES.items():
        parent = _category(industry, _(top), None)
        if not leaves:
            result.industries.append((parent.pk, parent.name))
        for leaf in leaves:
            node = _category(industry, _(leaf), parent)
            result.industries.append((node.pk, node.name))
    tier = _tree(_("Value tier"), description=_("What the customer is worth to us"), allow_multiple=False)
    for name in (_("Platinum"), _("Gold"), _("Silver"), _("Bronze")):
        result.tiers.append(_category(tier, name, None).pk)

    colours = ("#b45309", "#1f6feb", "#15803d", "#b91c1c", "#7c3aed", "#0e7490", "#6b7280")
    for name, colour in zip(
        (_("VIP"), _("Key account"), _("Newsletter"), _("Churn risk"), _("Referral partner"),
         _("Trade fair"), _("Reseller")),
        colours,
        strict=True,
    ):  # fmt: skip
        tag = Tag.objects.filter(name_key=name.strip().casefold()).first()
        if tag is None:
            tag = catalogues.tag_create(actor=None, name=name, color=colour)
        result.tags.append(tag.pk)

    roles = {
        "buyer": _("Buyer"),
        "payer": _("Payer"),
        "ship-to": _("Ship-to party"),
        "bill-to": _("Bill-to party"),
        "dealer": _("Dealer"),
        "employee": _("Employee"),
        "debtor": _("Debtor"),
    }
    known_roles = dict(PartyRole.objects.values_list("code", "pk"))
    for code, name in roles.items():
        if code not in known_roles:
            known_roles[code] = catalogues.role_create(actor=None, data={"code": code, "name": name}).pk
        result.roles[code] = known_roles[code]

    types = {
        "parent": (_("parent of"), _("subsidiary of"), KindScope.COMPANY, KindScope.COMPANY),
        "employs": (_("employs"), _("employed by"), KindScope.COMPANY, KindScope.PERSON),
        "holds": (_("holds"), _("held by"), KindScope.ANY, KindScope.COMPANY),
        "spouse": (_("spouse of"), _("spouse of"), KindScope.PERSON, KindScope.PERSON),
    }
    known_types = dict(RelationshipType.objects.values_list("code", "pk"))
    for code, (name, inverse, from_kind, to_kind) in types.items():
        if code not in known_types:
            data = {
                "code": code,
                "name": name,
                "inverse_name": inverse,
                "from_kind": from_kind,
                "to_kind": to_kind,
            }
            known_types[code] = catalogues.relationship_type_create(actor=None, data=data).pk
        result.relationship_types[code] = known_types[code]
    return result


def _tree(name: str, *, description: str, allow_multiple: bool) -> CategoryTree:
    tree = CategoryTree.objects.filter(name__iexact=name).first()
    if tree is None:
        tree = catalogues.category_tree_create(
            actor=None, data={"name": name, "description": description, "allow_multiple": allow_multiple}
        )
    return tree


def _category(tree: CategoryTree, name: str, parent: Category | None) -> Category:
    path = f"{parent.path}/{name}" if parent else name
    node = Category.objects.filter(tree=tree, path__iexact=path).first()
    if node is None:
        node = catalogues.category_create(actor=None, tree=tree, name=name, parent=parent)
    return node


# --- account managers ---------------------------------------------------------------------------


def ensure_managers(count: int, *, seed: int, password: str | None = None) -> list[Any]:
    """``am01`` … ``amNN``: created when missing, with an unusable password unless one is given."""
    user_model = get_user_model()
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    managers: list[Any] = []
    created: list[Any] = []
    width = max(2, len(str(count)))
    for i in range(1, count + 1):
        username = f"am{i:0{width}d}"
        name = fake.name()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model(
                username=username,
                email=f"{username}@example.com",
                first_name=name.split()[0],
                last_name=name.split()[-1],
                display_name=name,
            )
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            created.append(user)
        managers.append(user)
    if created:
        _place_in_organisation(managers, created)
    return managers


def _place_in_organisation(managers: list[Any], created: list[Any]) -> None:
    """The first account manager leads sales (sales manager); the others are sales representatives
    reporting to them, so the demo shows the manager-sees-subordinates rule."""
    from kith.security import services as security
    from kith.security.models import Role, Team

    roles = {r.code: r for r in Role.objects.filter(code__in=["sales_manager", "sales_rep"])}
    if len(roles) < 2:
        return
    team, _created = Team.objects.get_or_create(name="Sales", defaults={"description": "Demo sales team"})
    head = managers[0]
    for user in created:
        user.roles.set([roles["sales_manager" if user.pk == head.pk else "sales_rep"]])
        user.team = team
        user.manager = None if user.pk == head.pk else head
        user.save(update_fields=["team", "manager"])
    security.rebuild_reach()
    security.changed()


# --- writing rows -------------------------------------------------------------------------------


class _Table:
    """Insert column list for a model: the columns the generator fills, then constants for the rest."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], *, db_table: str = "") -> None:
        self.name = db_table or model._meta.db_table
        concrete = list(model._meta.local_concrete_fields)
        by_column = {f.column: f for f in concrete}
        unknown = set(columns) - set(by_column)
        if unknown:
            raise RuntimeError(f"{self.name} has no columns {sorted(unknown)}")
        self.columns = list(columns)
        self.extra: tuple[Any, ...] = ()
        extra: list[Any] = []
        for f in concrete:
            if f.column in columns or isinstance(f, models.AutoField | models.BigAutoField):
                continue
            if not (f.has_default() or f.null):
                raise RuntimeError(f"the demo loader does not fill {self.name}.{f.column}")
            self.columns.append(f.column)
            extra.append(f.get_db_prep_save(f.get_default(), connection) if f.has_default() else None)
        self.extra = tuple(extra)

    def rows(self, rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
        extra = self.extra
        if not extra:
            return rows
        return (row + extra for row in rows)


def _m2m_table(model: type[models.Model], name: str) -> _Table:
    through = model._meta.get_field(name).remote_field.through  # type: ignore[union-attr]
    fields = [f.column for f in through._meta.local_concrete_fields if not f.primary_key]
    return _Table(through, fields)


# Tables whose ids the generator hands out itself (the rows point at each other).
ID_TABLES = ("customer", "phone", "email", "address", "special_date")


class _Writer:
    def __init__(self) -> None:
        self.vendor = connection.vendor

    def ids(self, table: str) -> int:
        """The first free id of ``table``; the transaction keeps other writers out until ``used``."""
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                # The table lock keeps another writer from taking numbers inside the block.
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN EXCLUSIVE MODE")
                cursor.execute("SELECT nextval(%s)", [sequence])
                return int(cursor.fetchone()[0])
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            highest = int(cursor.fetchone()[0])
            try:
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
            except Exception:
                row = None
            if row and row[0]:
                highest = max(highest, int(row[0]))
            return highest + 1

    def used(self, table: str, first: int, count: int) -> None:
        """Move the id sequence past the ``count`` ids used from ``first`` (PostgreSQL; SQLite follows)."""
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, first + count]
            )

    def insert(self, table: _Table, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = ", ".join(connection.ops.quote_name(c) for c in table.columns)
        raw = connection.connection
        if self.vendor == "postgresql":
            cursor = raw.cursor()
            with cursor.copy(f"COPY {connection.ops.quote_name(table.name)} ({columns}) FROM STDIN") as copy:
                for row in table.rows(rows):
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(table.columns))
        sql = f"INSERT INTO {connection.ops.quote_name(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608
        cursor = raw.cursor()
        try:
            cursor.executemany(sql, table.rows(rows))
        finally:
            cursor.close()


# --- generation ---------------------------------------------------------------------------------

_CUSTOMER_COLUMNS = (
    "id", "created_at", "updated_at", "version", "customer_number", "kind", "display_name", "status",
    "owner_id", "source", "channel", "notes", "family_name", "given_name", "gender", "birth_date",
    "marital_status", "id_document_number", "legal_name", "short_name", "industry", "founded_date",
    "registration_number", "company_size", "annual_revenue", "annual_revenue_currency", "custom_data",
    "search_name", "search_pinyin", "search_initials", "merged_into_id", "created_by_id",
)  # fmt: skip
_INTERACTION_COLUMNS = (
    "id", "created_at", "updated_at", "version", "customer_id", "kind", "occurred_at", "actor_id",
    "channel", "subject", "content", "outcome", "follow_up_date", "created_by_id",
)  # fmt: skip
_TIMELINE_COLUMNS = (
    "id", "subject_type_id", "subject_id", "kind", "occurred_at", "title", "summary", "actor_id",
    "source_type_id", "source_id", "created_at",
)  # fmt: skip


def _weighted(items: Sequence[tuple[Any, int]]) -> list[Any]:
    return [value for value, weight in items for _i in range(weight)]


_STATUSES = _weighted(
    [
        (CustomerStatus.ACTIVE.value, 60),
        (CustomerStatus.PROSPECT.value, 25),
        (CustomerStatus.INACTIVE.value, 12),
        (CustomerStatus.ARCHIVED.value, 3),
    ]
)
_SOURCES = [s.value for s in Source if s.value]
_MARITAL = _weighted(
    [
        ("", 30),
        (MaritalStatus.SINGLE.value, 25),
        (MaritalStatus.MARRIED.value, 35),
        (MaritalStatus.DIVORCED.value, 6),
        (MaritalStatus.WIDOWED.value, 4),
    ]
)
_SIZES = [s.value for s in CompanySize if s.value]
_CHANNELS_BY_KIND = {
    InteractionKind.VISIT_BY_MANAGER.value: (Channel.IN_PERSON.value,),
    InteractionKind.CUSTOMER_VISIT.value: (Channel.IN_PERSON.value,),
    InteractionKind.CALL.value: (Channel.PHONE.value, Channel.VIDEO.value),
    InteractionKind.EMAIL.value: (Channel.EMAIL.value,),
    InteractionKind.MEETING.value: (Channel.IN_PERSON.value, Channel.VIDEO.value),
    InteractionKind.COMPLAINT.value: (Channel.PHONE.value, Channel.EMAIL.value, Channel.WEB.value),
    InteractionKind.SUGGESTION.value: (Channel.WEB.value, Channel.EMAIL.value, Channel.CHAT.value),
    InteractionKind.NOTE.value: ("",),
}
_KIND_WEIGHTS = _weighted(
    [
        (InteractionKind.CALL.value, 30),
        (InteractionKind.EMAIL.value, 25),
        (InteractionKind.VISIT_BY_MANAGER.value, 12),
        (InteractionKind.MEETING.value, 10),
        (InteractionKind.CUSTOMER_VISIT.value, 6),
        (InteractionKind.COMPLAINT.value, 6),
        (InteractionKind.SUGGESTION.value, 4),
        (InteractionKind.NOTE.value, 7),
    ]
)


def _interaction_templates(rng: random.Random) -> list[tuple[str, str, str, str, str, str, str]]:
    """(kind, channel, subject, content, outcome, timeline kind, summary) combinations to draw from."""
    topics = [
        _("the new price list"), _("the annual contract"), _("delivery dates"), _("an invoice"),
        _("the spring campaign"), _("a product demonstration"), _("service hours"), _("a quotation"),
        _("payment terms"), _("the loyalty programme"), _("a replacement part"), _("the trade fair"),
    ]  # fmt: skip
    subjects = {
        InteractionKind.CALL.value: [_("Call about %(topic)s"), _("Follow-up call: %(topic)s")],
        InteractionKind.EMAIL.value: [_("Email about %(topic)s"), _("Sent details on %(topic)s")],
        InteractionKind.VISIT_BY_MANAGER.value: [_("Visit to discuss %(topic)s")],
        InteractionKind.MEETING.value: [_("Meeting on %(topic)s"), _("Quarterly review: %(topic)s")],
        InteractionKind.CUSTOMER_VISIT.value: [_("Customer came in about %(topic)s")],
        InteractionKind.COMPLAINT.value: [_("Complaint about %(topic)s")],
        InteractionKind.SUGGESTION.value: [_("Suggestion regarding %(topic)s")],
        InteractionKind.NOTE.value: [_("Note: %(topic)s")],
    }
    contents = [
        "",
        _("Customer asked for a written offer by the end of the month."),
        _("Everything agreed; next contact in the new quarter."),
        _("Needs approval from their finance department first."),
        _("Very satisfied with the last delivery."),
        _("Mentioned a competitor's offer; send a better proposal."),
        _("Wants to be called back next week."),
        _("Asked about volume discounts for larger orders."),
    ]
    outcomes = [o.value for o in Outcome]
    templates = []
    for _i in range(2048):
        kind = _KIND_WEIGHTS[rng.randrange(len(_KIND_WEIGHTS))]
        channels = _CHANNELS_BY_KIND[kind]
        subject = rng.choice(subjects[kind]) % {"topic": rng.choice(topics)}
        content = rng.choice(contents)
        outcome = Outcome.RESOLVED.value if kind == InteractionKind.COMPLAINT and rng.random() < 0.6 else ""
        if not outcome:
            outcome = rng.choice(outcomes)
        summary = content.strip()
        summary = summary[:500] + ("…" if len(summary) > 500 else "")
        templates.append(
            (kind, channels[rng.randrange(len(channels))], subject[:200], content, outcome,
             timeline_kind(kind), summary)
        )  # fmt: skip
    return templates


@dataclass
class _Context:
    """Everything a chunk needs that does not change between chunks."""

    seed: int
    pools: tuple[_LocalePool, ...]
    locale_index: list[int]  # weighted list of pool indices
    catalogue: _Catalogue
    managers: list[int]
    interactions_per_customer: float
    now: dt.datetime
    today: dt.date
    customer_type_id: int
    interaction_type_id: int
    sqlite: bool
    templates: list[tuple[str, str, str, str, str, str, str]]


@dataclass
class _Chunk:
    customers: list[tuple[Any, ...]] = field(default_factory=list)
    phones: list[tuple[Any, ...]] = field(default_factory=list)
    emails: list[tuple[Any, ...]] = field(default_factory=list)
    addresses: list[tuple[Any, ...]] = field(default_factory=list)
    categories: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    roles: list[tuple[Any, ...]] = field(default_factory=list)
    relationships: list[tuple[Any, ...]] = field(default_factory=list)
    special_dates: list[tuple[Any, ...]] = field(default_factory=list)
    persons: int = 0


_MINUTES_SQLITE = [f" {m // 60:02d}:{m % 60:02d}:00" for m in range(1440)]
_MINUTES_UTC = [f"{t}+00:00" for t in _MINUTES_SQLITE]
_NAME_COMBOS = 4096  # distinct full names per locale and gender: common names repeat, as they do

# custom_data is written as the JSON text ``json.dumps`` makes of the dict, assembled from cached pieces.
_LANGUAGES = ("English", "Deutsch", "Français", "中文", "日本語")
_LANGUAGE_JSON = tuple(f'"preferred_language": {json.dumps(v)}' for v in _LANGUAGES)
_NEWSLETTER_JSON = ('"newsletter": false', '"newsletter": true')
_INTERESTS = ("Sports", "Travel", "Technology", "Cooking", "Music", "Art")
_INTERESTS_JSON = {
    (a, b): f'"interests": {json.dumps(sorted({_INTERESTS[a], _INTERESTS[b]}))}'
    for a in range(6)
    for b in range(6)
}
_CREDIT_JSON = tuple(f'"credit_limit": {json.dumps(str(Decimal(1000 * (1 + n))))}' for n in range(256))


@lru_cache(maxsize=_NAME_COMBOS * 2 * 8)
def _person_name(
    pool: _LocalePool, female: bool, combo: int
) -> tuple[str, str, str, tuple[str, str, str], str]:
    """(given, family, display name, search keys, email local part) for one of the locale's names."""
    given, given_roman = (pool.female if female else pool.male)[(combo * 7919) % POOL_SIZE]
    family, family_roman = pool.family[(combo * 104729 + combo // POOL_SIZE) % POOL_SIZE]
    display = _person_display_name(given, family)
    local = f"{given_roman}.{family_roman}" if given_roman and family_roman else ""
    return given, family, display, name_keys(display), local


@lru_cache(maxsize=8 * POOL_SIZE)
def _company(pool: _LocalePool, index: int) -> tuple[str, str, str, tuple[str, str, str], str, str]:
    """(display name, legal name, short name, search keys, e-mail domain, web site JSON) of a pool company."""
    legal, short, slug = pool.companies[index]
    display = short or legal
    keys = name_keys(" ".join(p for p in (display, legal, short) if p))
    website = f'"website": {json.dumps(f"https://www.{slug}.example.com")}'
    return display, legal, short, keys, f"{slug or 'company'}.example.com", website


def _generate_chunk(
    ctx: _Context,
    *,
    chunk_index: int,
    numbers: list[str],
    ids: dict[str, int],
    first_of_run: bool,
) -> _Chunk:
    """Rows for one chunk of customers; ``ids`` holds the first free id per table.

    Interactions and their timeline entries are not among them: the database makes those
    (``_InteractionSql``) from the customers written.
    """
    rng = random.Random(ctx.seed * 1_000_003 + chunk_index)
    rand = rng.random
    bits = rng.getrandbits
    out = _Chunk()
    sqlite = ctx.sqlite
    now = ctx.now
    today = ctx.today
    now_epoch = int(now.timestamp())
    history = HISTORY_DAYS * 86400

    days_text: dict[int, str] = {}
    minutes = _MINUTES_SQLITE if sqlite else _MINUTES_UTC

    def stamp(epoch: int) -> str:
        """A UTC time (to the minute) as the database reads it, built from cached parts."""
        days, seconds = divmod(epoch, 86400)
        text = days_text.get(days)
        if text is None:
            text = days_text[days] = dt.date.fromordinal(days + 719163).isoformat()
        return text + minutes[seconds // 60]

    if sqlite:

        def day(value: dt.date | None) -> Any:
            return None if value is None else value.isoformat()
    else:

        def day(value: dt.date | None) -> Any:
            return value

    # encrypted at rest (kith.core.crypto): the birth date, the phones; the phones' blind indexes
    seal, blind = crypto.seal, crypto.blind_index
    birth_label = "parties.customer.birth_date"
    number_label, national_label = "parties.phone.number", "parties.phone.national_number"

    def sealed_day(value: dt.date | None) -> str | None:
        return None if value is None else seal(value.isoformat(), birth_label)

    # custom fields an administrator marked sensitive before the load are encrypted like the services do
    custom_field = cast(crypto.SealedKeysJSONField, Customer._meta.get_field("custom_data"))
    sealed_keys = custom_field.sealed_keys()

    def custom_text(parts: list[str]) -> str:
        text = "{" + ", ".join(parts) + "}"
        if sealed_keys and parts:
            return json.dumps(custom_field.seal_values(json.loads(text), sealed_keys), ensure_ascii=False)
        return text

    managers = ctx.managers
    n_managers = len(managers)
    pools = ctx.pools
    locale_index = ctx.locale_index
    n_locale_index = len(locale_index)
    cat = ctx.catalogue
    roles = cat.roles
    tiers = cat.tiers
    n_tiers = len(tiers)
    tags = cat.tags
    n_tags = len(tags)
    industries = cat.industries
    n_industries = len(industries)
    customer_id = ids["customer"]
    phone_id = ids["phone"]
    email_id = ids["email"]
    address_id = ids["address"]
    special_id = ids["special_date"]
    person_ids: list[int] = []
    company_ids: list[int] = []
    customers = out.customers
    phones = out.phones
    emails = out.emails
    addresses = out.addresses
    special_dates = out.special_dates
    m2m_roles = out.roles
    m2m_categories = out.categories
    m2m_tags = out.tags
    birth_lo = dt.date(today.year - 85, 1, 1).toordinal()
    birth_span = dt.date(today.year - 18, 1, 1).toordinal() - birth_lo
    founded_lo = dt.date(1890, 1, 1).toordinal()
    founded_span = dt.date(today.year - 1, 1, 1).toordinal() - founded_lo
    fromordinal = dt.date.fromordinal
    today_ordinal = today.toordinal()
    renewal_days = [(today + dt.timedelta(days=n)).isoformat() for n in range(512)]
    # The first customers of a run's first chunk get anniversaries in the coming week, per manager.
    guaranteed: dict[int, int] = {}
    if first_of_run and managers:
        guaranteed = {i: i // n_managers for i in range(GUARANTEED_ANNIVERSARIES * n_managers)}
    guaranteed_count = len(guaranteed)

    person = CustomerKind.PERSON.value
    company = CustomerKind.COMPANY.value
    active = CustomerStatus.ACTIVE.value
    female_value, male_value = Gender.FEMALE.value, Gender.MALE.value
    married = MaritalStatus.MARRIED.value
    birthday, wedding_kind = SpecialDateKind.BIRTHDAY.value, SpecialDateKind.WEDDING.value
    founding, first_purchase_kind = SpecialDateKind.FOUNDING.value, SpecialDateKind.FIRST_PURCHASE.value
    mobile, work, fax = PhoneLabel.MOBILE.value, PhoneLabel.WORK.value, PhoneLabel.FAX.value
    email_personal, email_work = EmailLabel.PERSONAL.value, EmailLabel.WORK.value
    home, office = AddressLabel.HOME.value, AddressLabel.OFFICE.value
    buyer = roles["buyer"]
    company_roles = [
        (roles[code], share)
        for code, share in (("buyer", 0.6), ("payer", 0.5), ("bill-to", 0.3), ("ship-to", 0.3),
                            ("dealer", 0.08), ("debtor", 0.05))
    ]  # fmt: skip
    n_sources = len(_SOURCES)
    n_marital = len(_MARITAL)
    n_sizes = len(_SIZES)
    n_domains = len(_EMAIL_DOMAINS)

    for i, number in enumerate(numbers):
        cid = customer_id + i
        pool = pools[locale_index[bits(7) % n_locale_index]]
        is_person = rand() < 0.7
        status = _STATUSES[bits(7) % 100]
        owner = managers[i % n_managers] if managers and (i < guaranteed_count or rand() < 0.95) else None
        if i < guaranteed_count:
            status = active
            owner = managers[i % n_managers]
        created_epoch = now_epoch - int(rand() * history) - 86400
        created = stamp(created_epoch)
        source = _SOURCES[bits(8) % n_sources] if rand() < 0.8 else ""
        anniversary: dt.date | None = None
        if i in guaranteed:
            anniversary = today + dt.timedelta(days=(i // max(1, n_managers)) * 2 % 7)
        custom: list[str] = []
        if rand() < 0.6:
            custom.append(f'"loyalty_points": {bits(14)}')
        if rand() < 0.5:
            custom.append(_LANGUAGE_JSON[bits(8) % 5])
        if rand() < 0.4:
            custom.append(_NEWSLETTER_JSON[rand() < 0.6])
        country = pool.country
        phone_label = mobile
        if is_person:
            out.persons += 1
            person_ids.append(cid)
            female = rand() < 0.5
            given, family, display, keys, local = _person_name(pool, female, bits(12))
            birth: dt.date | None = None
            if anniversary is not None:
                birth = _on_day(anniversary, today.year - 20 - bits(5))
            elif rand() < 0.85:
                birth = fromordinal(birth_lo + int(rand() * birth_span))
            marital = _MARITAL[bits(7) % n_marital]
            if rand() < 0.3:
                custom.append(_INTERESTS_JSON[(bits(8) % 6, bits(8) % 6)])
            customers.append(
                (cid, created, created, 1, number, person, display, status, owner,
                 source, "", "", family, given, female_value if female else male_value, sealed_day(birth), marital, "",
                 "", "", "", None, "", "", None, "", custom_text(custom), keys[0], keys[1], keys[2],
                 None, None)
            )  # fmt: skip
            if birth is not None:
                special_dates.append(
                    (special_id, cid, birthday, "", None, birth.month, birth.day,
                     birth.month * 100 + birth.day)
                )  # fmt: skip
                special_id += 1
            if marital == married and rand() < 0.5:
                wedding = fromordinal(max(birth_lo, (birth or today).toordinal()) + 8000 + bits(12))
                if wedding < today:
                    special_dates.append(
                        (special_id, cid, wedding_kind, "", wedding.year, wedding.month, wedding.day,
                         wedding.month * 100 + wedding.day)
                    )  # fmt: skip
                    special_id += 1
            local = local or f"client{bits(20)}"
            if rand() < 0.5:
                local += str(bits(7))
            address = f"{local}@{_EMAIL_DOMAINS[bits(8) % n_domains]}"
            email_label = email_personal
            address_label = home
            if rand() < 0.25:
                m2m_roles.append((cid, buyer))
            if rand() < 0.35:
                m2m_categories.append((cid, tiers[bits(8) % n_tiers]))
        else:
            company_ids.append(cid)
            display, legal, short, keys, domain, website = _company(pool, bits(16) % len(pool.companies))
            founded: dt.date | None = None
            if anniversary is not None:
                founded = _on_day(anniversary, today.year - 5 - bits(6))
            elif rand() < 0.8:
                founded = fromordinal(founded_lo + int(rand() * founded_span))
            industry_id, industry_name = industries[bits(8) % n_industries]
            revenue: Any = None
            currency = ""
            if rand() < 0.6:
                cents = bits(24) * 100 + bits(6)
                revenue = f"{cents // 100}.{cents % 100:02d}" if sqlite else Decimal(cents) / 100
                currency = pool.currency
            if rand() < 0.5:
                custom.append(_CREDIT_JSON[bits(8)])
            if rand() < 0.3:
                custom.append(f'"contract_renewal": "{renewal_days[bits(9)]}"')
            if rand() < 0.5:
                custom.append(website)
            customers.append(
                (cid, created, created, 1, number, company, display, status, owner,
                 source, "", "", "", "", "", None, "", "",
                 legal, short, industry_name, day(founded), f"{country}{bits(30):09d}",
                 _SIZES[bits(8) % n_sizes], revenue, currency, custom_text(custom),
                 keys[0], keys[1], keys[2], None, None)
            )  # fmt: skip
            if founded is not None:
                special_dates.append(
                    (special_id, cid, founding, "", founded.year, founded.month, founded.day,
                     founded.month * 100 + founded.day)
                )  # fmt: skip
                special_id += 1
            address = f"{('info', 'contact', 'sales', 'office')[bits(2)]}@{domain}"
            email_label = email_work
            address_label = office
            phone_label = work
            m2m_categories.append((cid, industry_id))
            if rand() < 0.7:
                m2m_categories.append((cid, tiers[bits(8) % n_tiers]))
            for role, share in company_roles:
                if rand() < share:
                    m2m_roles.append((cid, role))
        # Contact points: one primary phone, sometimes a second; one email; one address.
        stems = pool.phone_stems
        offset = pool.phone_national_offset
        phone = f"{stems[bits(10) % len(stems)]}{bits(14) % 10000:04d}"
        national = phone[offset:]
        phones.append(
            (phone_id, cid, phone_label, seal(phone, number_label), seal(national, national_label),
             blind("phone", phone), blind("phone_national", national), "", True)
        )  # fmt: skip
        phone_id += 1
        if rand() < 0.3:
            second = f"{stems[bits(10) % len(stems)]}{bits(14) % 10000:04d}"
            if second != phone:
                label = work if is_person else fax
                extension = "" if is_person or rand() < 0.7 else str(10 + bits(8))
                national = second[offset:]
                phones.append(
                    (phone_id, cid, label, seal(second, number_label), seal(national, national_label),
                     blind("phone", second), blind("phone_national", national), extension, False)
                )  # fmt: skip
                phone_id += 1
        if rand() < 0.92:
            emails.append((email_id, cid, email_label, address, address.casefold(), True))
            email_id += 1
        addresses.append(
            (address_id, cid, address_label, *pool.addresses[bits(16) % POOL_SIZE], country, True)
        )
        address_id += 1
        if rand() < 0.25:
            tag_count = 1 + bits(1)
            for tag in {tags[bits(8) % n_tags] for _j in range(tag_count)}:
                m2m_tags.append((cid, tag))
        if status == active and rand() < 0.2:
            first_purchase = fromordinal(
                max(today_ordinal - 3000, (created_epoch // 86400) + 719163) + bits(6)
            )
            if first_purchase < today:
                special_dates.append(
                    (special_id, cid, first_purchase_kind, "", first_purchase.year,
                     first_purchase.month, first_purchase.day,
                     first_purchase.month * 100 + first_purchase.day)
                )  # fmt: skip
                special_id += 1
    _relationships(rng, out, person_ids, company_ids, ctx, today)
    return out


def _on_day(anniversary: dt.date, year: int) -> dt.date:
    """The date in ``year`` whose anniversary falls on ``anniversary`` (29 February needs a leap year)."""
    if anniversary.month == 2 and anniversary.day == 29:
        while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            year -= 1
    return anniversary.replace(year=year)


def _relationships(
    rng: random.Random,
    out: _Chunk,
    person_ids: list[int],
    company_ids: list[int],
    ctx: _Context,
    today: dt.date,
) -> None:
    types = ctx.catalogue.relationship_types
    roles = ctx.catalogue.roles
    sqlite = ctx.sqlite
    created = str(ctx.now.replace(tzinfo=None)) if sqlite else ctx.now
    seen: set[tuple[int, int, int]] = set()

    def add(kind: str, source: int, target: int, start: dt.date | None = None) -> None:
        key = (types[kind], source, target)
        if source == target or key in seen:
            return
        seen.add(key)
        start_value = None if start is None else (start.isoformat() if sqlite else start)
        out.relationships.append((created, created, types[kind], source, target, start_value, None, "", None))

    if person_ids and company_ids:
        employed: set[int] = set()
        for company in company_ids:
            if rng.random() < 0.4:
                for _j in range(1 + rng.getrandbits(1)):
                    person = person_ids[rng.getrandbits(20) % len(person_ids)]
                    add("employs", company, person, today - dt.timedelta(days=rng.getrandbits(12)))
                    employed.add(person)
        for person in sorted(employed):
            out.roles.append((person, roles["employee"]))
        for person in person_ids:
            if rng.random() < 0.04:
                add("holds", person, company_ids[rng.getrandbits(20) % len(company_ids)])
    for position, company in enumerate(company_ids):
        if position and rng.random() < 0.08:
            add("parent", company_ids[rng.getrandbits(20) % position], company)  # no cycles: parents first
    married = [p for p in person_ids if rng.random() < 0.1]
    for a, b in zip(married[::2], married[1::2], strict=False):
        add("spouse", a, b)


# --- interactions and their timeline entries, written by the database ----------------------------

_M32 = 1 << 32
_MIX = 73244475  # odd, so each round is a bijection of the 32-bit integers; products stay below 2**63


def _mix32(x: int) -> int:
    """The integer hash ``_mix32_sql`` computes in the database (kept here to test that both agree)."""
    b = (x % _M32) * _MIX % _M32
    c = (b + (b >> 15)) * _MIX % _M32
    return (c + (c >> 16)) % _M32


def _mix32_sql(x: str) -> str:
    """SQL for ``_mix32`` of the non-negative integer expression ``x`` (plain integer arithmetic: both engines
    evaluate it alike, and SQLite has no XOR)."""
    b = f"((({x}) % {_M32}) * {_MIX} % {_M32})"
    c = f"(({b} + ({b} >> 15)) * {_MIX} % {_M32})"
    return f"(({c} + ({c} >> 16)) % {_M32})"


_TEMP_TABLES = ("kith_demo_k", "kith_demo_tpl", "kith_demo_mgr", "kith_demo_kind", "kith_demo_summary")


class _InteractionSql:
    """Interactions (about ``interactions_per_customer`` per customer) and one timeline entry each, made by
    ``INSERT … SELECT`` from a chunk's customers: the rows never travel through Python.

    The choices are an integer hash of (seed, the customer's position in the load, the interaction's number),
    so the same seed gives the same interactions. Each customer gets 0 … 2·n of them (n on average), spread
    from the day the customer came until now, each from one of the load's templates; the actor is the
    account manager, or one of the managers for customers without one. The timeline entries are what
    ``kith.core.timeline.publish`` stores for them (see ``interaction_create``).
    """

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.sqlite = ctx.sqlite
        per_customer = max(0.0, ctx.interactions_per_customer)
        self.scale = round((2 * per_customer + 1) * 1000)  # count = u · (2n + 1), u uniform in [0, 1)
        self.max_count = (65535 * self.scale) // 65_536_000
        self.salt = (ctx.seed * 1_000_003) % _M32
        for table, columns in ((Interaction, _INTERACTION_COLUMNS), (TimelineEntry, _TIMELINE_COLUMNS)):
            if _Table(table, columns).extra:
                raise RuntimeError(f"the demo loader does not fill every column of {table._meta.db_table}")

    def __enter__(self) -> _InteractionSql:
        if self.max_count <= 0:
            return self
        templates = self.ctx.templates
        for _kind, _channel, subject, *_rest in templates:
            assert len(subject) <= 300, subject  # the timeline title is the subject, cut to 300
        pending = Outcome.PENDING.value
        self._drop()
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE kith_demo_k (k INTEGER PRIMARY KEY)")
            cursor.executemany(
                "INSERT INTO kith_demo_k (k) VALUES (%s)", [(k,) for k in range(self.max_count)]
            )
            cursor.execute(
                "CREATE TEMP TABLE kith_demo_tpl (t INTEGER PRIMARY KEY, kind TEXT NOT NULL, channel TEXT NOT NULL,"
                " subject TEXT NOT NULL, content TEXT NOT NULL, outcome TEXT NOT NULL, pending INTEGER NOT NULL)"
            )
            cursor.executemany(
                "INSERT INTO kith_demo_tpl VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (t, kind, channel, subject, content, outcome, int(outcome == pending))
                    for t, (kind, channel, subject, content, outcome, _tl, _summary) in enumerate(templates)
                ],
            )
            cursor.execute("CREATE TEMP TABLE kith_demo_mgr (m INTEGER PRIMARY KEY, user_id BIGINT NOT NULL)")
            cursor.executemany(
                "INSERT INTO kith_demo_mgr VALUES (%s, %s)", list(enumerate(self.ctx.managers))
            )
            cursor.execute("CREATE TEMP TABLE kith_demo_kind (kind TEXT PRIMARY KEY, tl_kind TEXT NOT NULL)")
            cursor.executemany(
                "INSERT INTO kith_demo_kind VALUES (%s, %s)", sorted({(t[0], t[5]) for t in templates})
            )
            cursor.execute(
                "CREATE TEMP TABLE kith_demo_summary (content TEXT PRIMARY KEY, summary TEXT NOT NULL)"
            )
            cursor.executemany(
                "INSERT INTO kith_demo_summary VALUES (%s, %s)", sorted({(t[3], t[6]) for t in templates})
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.max_count > 0 and not connection.needs_rollback:
            self._drop()

    def _drop(self) -> None:
        with connection.cursor() as cursor:
            for table in _TEMP_TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def _sql(self, *, first_customer: int, last_customer: int, position: int, first_id: int) -> str:
        """The INSERT of one chunk's interactions; ``position``: the load position of ``first_customer``."""
        if self.sqlite:
            epoch = "CAST(strftime('%s', c.created_at) AS INTEGER)"
            greatest = "max"

            def stamp(w: str) -> str:
                return f"datetime({w}, 'unixepoch')"

            def day(d: str) -> str:
                return f"date(({d}) * 86400, 'unixepoch')"
        else:
            epoch = "CAST(EXTRACT(EPOCH FROM c.created_at) AS BIGINT)"
            greatest = "GREATEST"

            def stamp(w: str) -> str:
                return f"to_timestamp({w})"

            def day(d: str) -> str:
                return f"(DATE '1970-01-01' + CAST({d} AS INTEGER))"

        ctx = self.ctx
        now_epoch = int(ctx.now.timestamp())
        width = max(1, self.max_count)
        managers = max(1, len(ctx.managers))
        salt = self.salt
        o = f"(c.id + {position - first_customer:d})"  # the customer's position in the load
        count = f"({_mix32_sql(f'{o} * 4 + {salt}')} % 65536 * {self.scale} / 65536000)"
        manager = f"({_mix32_sql(f'{o} * 4 + 1 + {salt}')} % {managers})"
        x = f"((r.o * {width} + k.k) * 2 + {salt})"  # one interaction: (customer, number)
        columns = ", ".join(connection.ops.quote_name(c) for c in _INTERACTION_COLUMNS)
        table = connection.ops.quote_name(Interaction._meta.db_table)
        customers = connection.ops.quote_name(Customer._meta.db_table)
        return f"""
            WITH q AS (
                SELECT c.id AS cid, {o} AS o, {epoch} AS ce, {greatest}(3600, {now_epoch:d} - {epoch}) AS span,
                       {count} AS cnt,
                       COALESCE(c.owner_id, (SELECT m.user_id FROM kith_demo_mgr m WHERE m.m = {manager})) AS actor
                FROM {customers} c
                WHERE c.id BETWEEN {first_customer:d} AND {last_customer:d}
            ), r AS (
                SELECT q.*, CAST(SUM(q.cnt) OVER (ORDER BY q.cid ROWS UNBOUNDED PRECEDING) AS BIGINT) - q.cnt
                    AS before
                FROM q
            ), i AS MATERIALIZED (
                SELECT {first_id:d} + r.before + k.k AS id, r.cid, r.actor, {_mix32_sql(x)} % {len(ctx.templates):d} AS t,
                       {_mix32_sql(f"{x} + 1")} AS h,
                       (r.ce + {_mix32_sql(f"{x} + 1")} * r.span / {_M32}) / 60 * 60 AS w
                FROM r JOIN kith_demo_k k ON k.k < r.cnt
            )
            INSERT INTO {table} ({columns})
            SELECT i.id, {stamp("i.w")}, {stamp("i.w")}, 1, i.cid, t.kind, {stamp("i.w")}, i.actor, t.channel,
                   t.subject, t.content, t.outcome,
                   CASE WHEN t.pending = 1 THEN {day("i.w / 86400 + 7 + i.h % 32")} END, i.actor
            FROM i JOIN kith_demo_tpl t ON t.t = i.t
        """  # noqa: S608 -- integers and names from the model only

    def insert(
        self, *, first_customer: int, last_customer: int, position: int, first_id: int, first_entry: int
    ) -> int:
        """Write the interactions of customers ``first_customer`` … ``last_customer`` and their timeline
        entries, with ids from ``first_id`` and ``first_entry``; return how many."""
        if self.max_count <= 0 or last_customer < first_customer:
            return 0
        sql = self._sql(
            first_customer=first_customer, last_customer=last_customer, position=position, first_id=first_id
        )
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql)
            count = cursor.rowcount
            if self.sqlite:  # the sqlite3 module does not count the rows of WITH … INSERT
                cursor.execute("SELECT changes()")
                count = cursor.fetchone()[0]
            if count <= 0:
                return 0
            ctx = self.ctx
            columns = ", ".join(connection.ops.quote_name(c) for c in _TIMELINE_COLUMNS)
            cursor.execute(
                f"""
                INSERT INTO {connection.ops.quote_name(TimelineEntry._meta.db_table)} ({columns})
                SELECT i.id + {first_entry - first_id:d}, {ctx.customer_type_id:d}, i.customer_id, k.tl_kind,
                       i.occurred_at, i.subject, s.summary, i.actor_id, {ctx.interaction_type_id:d}, i.id,
                       i.occurred_at
                FROM {connection.ops.quote_name(Interaction._meta.db_table)} i
                JOIN kith_demo_kind k ON k.kind = i.kind
                JOIN kith_demo_summary s ON s.content = i.content
                WHERE i.id BETWEEN {first_id:d} AND {first_id + count - 1:d}
                """  # noqa: S608 -- integers and names from the model only
            )
        finally:
            cursor.close()
        return int(count)


# --- the load -----------------------------------------------------------------------------------


@contextmanager
def _fast_database() -> Iterator[None]:
    """Skip the wait for the disk at every commit while the load runs (SQLite: also a large page cache).

    Demo data can be loaded again if the machine dies mid-load; WAL keeps the database consistent either way.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            synchronous_commit = str(cursor.fetchone()[0])
            cursor.execute("SET synchronous_commit = off")
        try:
            yield
        finally:
            if not connection.needs_rollback:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('synchronous_commit', %s, false)", [synchronous_commit])
        return
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size")
        cache_size = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-1048576")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={synchronous:d}")
            cursor.execute(f"PRAGMA cache_size={cache_size:d}")


DROP_INDEXES_FROM = 50_000  # loads this large (and as large as the data) drop secondary indexes, rebuild them


def load_demo(
    *,
    customers: int,
    seed: int,
    users: int = DEFAULT_USERS,
    interactions_per_customer: float = DEFAULT_INTERACTIONS,
    manager_password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    drop_indexes: bool | None = None,
) -> DemoResult:
    """Add ``customers`` demo customers (and their account managers and catalogues when missing).

    ``drop_indexes`` (default: for ``DROP_INDEXES_FROM`` customers or more, and at least as many as there are)
    drops the secondary indexes of the customer tables during the load and builds them again at the end.
    """
    started = time.monotonic()
    result = DemoResult()
    managers = [u.pk for u in ensure_managers(max(0, users), seed=seed, password=manager_password)]
    result.managers = len(managers)
    catalogue = _ensure_catalogues()
    pools = _pools(seed)
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    ctx = _Context(
        seed=seed,
        pools=pools,
        locale_index=[i for i, (_l, _c, _cur, weight) in enumerate(LOCALES) for _w in range(weight)],
        catalogue=catalogue,
        managers=managers,
        interactions_per_customer=max(0.0, float(interactions_per_customer)),
        now=now,
        today=timezone.localdate(now),
        customer_type_id=ContentType.objects.get_for_model(Customer).pk,
        interaction_type_id=ContentType.objects.get_for_model(Interaction).pk,
        sqlite=connection.vendor == "sqlite",
        templates=_interaction_templates(rng),
    )
    tables = {
        "customer": _Table(Customer, _CUSTOMER_COLUMNS),
        "phone": _Table(
            Phone,
            (
                "id",
                "customer_id",
                "label",
                "number",
                "national_number",
                "number_index",
                "national_index",
                "extension",
                "is_primary",
            ),
        ),
        "email": _Table(Email, ("id", "customer_id", "label", "address", "address_key", "is_primary")),
        "address": _Table(
            Address,
            (
                "id",
                "customer_id",
                "label",
                "line1",
                "line2",
                "postal_code",
                "city",
                "region",
                "country",
                "is_primary",
            ),
        ),
        "special_date": _Table(
            SpecialDate, ("id", "customer_id", "kind", "label", "year", "month", "day", "month_day")
        ),
        "relationship": _Table(
            Relationship,
            (
                "created_at",
                "updated_at",
                "type_id",
                "from_customer_id",
                "to_customer_id",
                "start_date",
                "end_date",
                "note",
                "created_by_id",
            ),
        ),
        "categories": _m2m_table(Customer, "categories"),
        "tags": _m2m_table(Customer, "tags"),
        "roles": _m2m_table(Customer, "roles"),
    }
    interaction_table = Interaction._meta.db_table
    timeline_table = TimelineEntry._meta.db_table
    if drop_indexes is None:  # worth it when the load at least doubles the customers
        drop_indexes = customers >= max(DROP_INDEXES_FROM, Customer.objects.count())
    writer = _Writer()
    with (
        _fast_database(),
        bulk_loading(drop_indexes=drop_indexes),
        _InteractionSql(ctx) as interactions,
    ):
        done = 0
        chunk_index = 0
        while done < customers:
            size = min(CHUNK_SIZE, customers - done)
            with transaction.atomic():
                numbers = allocate_customer_numbers(size)
                ids = {name: writer.ids(tables[name].name) for name in ID_TABLES}
                chunk = _generate_chunk(
                    ctx, chunk_index=chunk_index, numbers=numbers, ids=ids, first_of_run=chunk_index == 0
                )
                for name, rows in (
                    ("customer", chunk.customers),
                    ("phone", chunk.phones),
                    ("email", chunk.emails),
                    ("address", chunk.addresses),
                    ("special_date", chunk.special_dates),
                    ("categories", chunk.categories),
                    ("tags", chunk.tags),
                    ("roles", chunk.roles),
                    ("relationship", chunk.relationships),
                ):
                    writer.insert(tables[name], rows)
                    if name in ids:
                        writer.used(tables[name].name, ids[name], len(rows))
                first_interaction = writer.ids(interaction_table)
                first_entry = writer.ids(timeline_table)
                added = interactions.insert(
                    first_customer=ids["customer"],
                    last_customer=ids["customer"] + size - 1,
                    position=done,
                    first_id=first_interaction,
                    first_entry=first_entry,
                )
                writer.used(interaction_table, first_interaction, added)
                writer.used(timeline_table, first_entry, added)
            if not result.first_number:
                result.first_number = numbers[0]
            result.last_number = numbers[-1]
            result.customers += size
            result.persons += chunk.persons
            result.companies += size - chunk.persons
            result.phones += len(chunk.phones)
            result.emails += len(chunk.emails)
            result.addresses += len(chunk.addresses)
            result.interactions += added
            result.relationships += len(chunk.relationships)
            result.special_dates += len(chunk.special_dates)
            done += size
            chunk_index += 1
            if progress:
                progress(done, customers)
    result.seconds = time.monotonic() - started
    from kith.audit.services import record_bulk_load  # the rows above bypassed the per-row audit

    record_bulk_load(
        f"demo data (seed {seed})", {k: v for k, v in vars(result).items() if isinstance(v, int)}
    )
    return result


def add_demo_duplicates(*, count: int = 6, seed: int = 42) -> list[Customer]:
    """A few near-copies of demo persons (the same phone written another way, or the same email in other
    letters, or the same name with a typo at the same address), so the duplicates report has something to
    show on a fresh demo. Made through the customer service, like customers typed in twice."""
    from django.core.exceptions import ValidationError

    from kith.parties import services
    from kith.parties.services.contact_points import format_phone

    rng = random.Random(seed)
    ids = list(
        Customer.objects.filter(kind=CustomerKind.PERSON, merged_into__isnull=True).values_list(
            "pk", flat=True
        )[:500]
    )
    made: list[Customer] = []
    for index, pk in enumerate(rng.sample(ids, min(count, len(ids)))):
        original = Customer.objects.get(pk=pk)
        phone = original.phones.first()
        email = original.emails.first()
        given = original.given_name
        if index % 3 == 2 and len(given) > 3:  # a typo: the last two letters swapped
            given = given[:-2] + given[-1] + given[-2]
        data = {"family_name": original.family_name, "given_name": given, "owner": original.owner_id}
        phones = [{"number": format_phone(phone.number)}] if phone and index % 3 == 0 else []  # "+49 30 …"
        emails = [{"address": email.address.upper()}] if email and index % 3 == 1 else []
        addresses = [
            {k: getattr(a, k) for k in ("label", "line1", "postal_code", "city", "country")}
            for a in original.addresses.all()[:1]
        ]
        try:
            made.append(
                services.customer_create(
                    actor=None, kind="person", data=data, phones=phones, emails=emails, addresses=addresses
                )
            )
        except ValidationError:  # a demo nicety: a copy that does not fit is skipped
            continue
    return made
