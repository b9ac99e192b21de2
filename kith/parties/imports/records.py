"""One row of an imported file → one canonical customer record, the shape the importer hands to the services.

``to_record`` applies a column → target mapping (see ``presets``) to a row and reads what the other
systems write: several values in one cell (Google's `` ::: ``, ``;``), label texts (``* Work``, ``CELL``,
``手机``), dates in the usual export formats, a full name to split. It validates nothing beyond that and
touches no database: phones, e-mails and custom values are checked by the services, which report field
errors. What it cannot read goes to ``problems`` (target or column → message for the person importing).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict, TypeVar

from django.utils.translation import gettext as _

from kith.core.readers import ERROR_KEY, EXTRA_KEY
from kith.parties.imports.presets import is_valid_target


class PhoneRecord(TypedDict):
    number: str
    label: str  # mobile, work, home, fax or other
    primary: bool


class EmailRecord(TypedDict):
    address: str
    label: str  # work, home or other
    primary: bool


class AddressRecord(TypedDict):
    label: str  # work, home or other
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str  # as written in the file; the importer turns it into an ISO code


class Record(TypedDict):
    customer_number: str
    kind: str  # "person", "company" or "" when unknown
    display_name: str
    given_name: str
    family_name: str
    legal_name: str
    company_name: str
    job_title: str
    birth_date: str  # "YYYY-MM-DD" or ""
    gender: str  # female, male, other, "" — or the text as written when it is none of these
    notes: str
    status: str
    source: str
    industry: str
    owner: str
    founded_date: str  # "YYYY-MM-DD" or ""
    registration_number: str
    website: str
    external_id: str
    phones: list[PhoneRecord]
    emails: list[EmailRecord]
    addresses: list[AddressRecord]
    tags: list[str]
    categories: list[str]
    roles: list[str]
    custom: dict[str, str]
    related: list[tuple[str, str]]  # (relationship type code, the other customer's number)
    problems: dict[str, str]  # values that cannot be read: the row is rejected with these reasons
    notices: dict[str, str]  # values left out on purpose (an Exchange address): kept in the notes
    birthday_without_year: str  # "MM-DD" of a birthday given without a year, or ""


# regions whose software writes dates month first (3/15/1984); elsewhere 3/4/1984 is 3 April
_MONTH_FIRST_REGIONS = frozenset({"", "US", "PH", "PR", "GU", "AS", "VI", "MP", "UM", "FM", "MH", "PW"})
_EMPTY_DATES = frozenset({"0/0/00", "0/0/0000", "00/00/0000", "0000-00-00", "00.00.0000"})
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_BASIC_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T.*)?")
_CHINESE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.])(\d{1,2})\2(\d{4})(?: .*)?")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[ -]([A-Za-z]{3,9})\.?,?[ -](\d{4})")
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})")
_NO_YEAR = re.compile(r"--(\d{2})-?(\d{2})")


class DateProblem(ValueError):
    pass


def parse_date(text: str, *, default_region: str = "") -> str:
    """A date as exported by another system → ``YYYY-MM-DD`` ("" for an empty one). Raises
    ``DateProblem`` (with a message for the user) when it cannot be read or has no year."""
    value = text.strip()
    if not value or value in _EMPTY_DATES:
        return ""
    if _NO_YEAR.fullmatch(value):
        raise DateProblem(_("“%(value)s” has no year, so the date was left empty.") % {"value": value})
    year = month = day = 0
    if match := _ISO_DATE.fullmatch(value) or _BASIC_DATE.fullmatch(value) or _CHINESE_DATE.fullmatch(value):
        year, month, day = (int(match[i]) for i in (1, 2, 3))
    elif match := _NUMERIC_DATE.fullmatch(value):
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        month_first = match[2] == "/" and default_region.upper() in _MONTH_FIRST_REGIONS
        if first > 12 or (match[2] == "." and second <= 12):
            month_first = False
        elif second > 12:
            month_first = True
        month, day = (first, second) if month_first else (second, first)
    elif match := _DAY_MONTH_YEAR.fullmatch(value):
        day, month, year = int(match[1]), _MONTHS.get(match[2].lower(), 0), int(match[3])
    elif match := _MONTH_DAY_YEAR.fullmatch(value):
        month, day, year = _MONTHS.get(match[1].lower(), 0), int(match[2]), int(match[3])
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise DateProblem(
            _("“%(value)s” is not a date that can be read; write it as YYYY-MM-DD.") % {"value": value}
        ) from None


# --- labels --------------------------------------------------------------------------------------------

_FAX = ("fax", "facsimile", "传真")
_MOBILE = ("mobile", "cell", "cellular", "cellphone", "iphone", "handy", "手机", "移动")
_WORK = ("work", "business", "office", "company", "main", "工作", "办公", "公司", "单位")
_HOME = ("home", "private", "personal", "家", "住宅", "个人", "私人")


def _words(text: str) -> set[str]:
    return {word for word in re.split(r"[^\w]+", text.casefold()) if word}


def _has(text: str, words: set[str], keywords: tuple[str, ...]) -> bool:
    # Latin keywords are whole words ("home" but not "homepage"); Chinese ones are found inside the text
    return any(k in words if k.isascii() else k in text for k in keywords)


def phone_label(text: str) -> str:
    """A phone label as another system writes it → mobile, work, home, fax or other."""
    words = _words(text)
    for label, keywords in (("fax", _FAX), ("mobile", _MOBILE), ("work", _WORK), ("home", _HOME)):
        if _has(text, words, keywords):
            return label
    return "other"


def email_label(text: str) -> str:
    """An e-mail or address label → work, home or other."""
    words = _words(text)
    for label, keywords in (("work", _WORK), ("home", _HOME)):
        if _has(text, words, keywords):
            return label
    return "other"


def _is_primary(label_text: str) -> bool:
    # Google marks the primary value with "* " ("* Work"); vCard with TYPE=pref / PREF=1
    return label_text.lstrip().startswith("*") or "pref" in _words(label_text)


# --- names ---------------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
    }
)
_NAME_PREFIXES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "herr", "frau"})
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "msc", "bsc", "mba"})
_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "la", "le", "du", "da", "di", "del", "della", "dos"}
)


def _bare(word: str) -> str:
    return word.strip(".,").casefold()


def split_full_name(full_name: str) -> tuple[str, str]:
    """(given name, family name) of a name written in one piece. A Chinese name of 2–4 characters
    begins with the family name (two characters for a compound one such as 欧阳); otherwise the last word
    is the family name ("Family, Given" is read too), with its particles ("van der Berg")."""
    text = " ".join(full_name.split())
    if _CJK.fullmatch(text):
        if 2 <= len(text) <= 4:
            cut = 2 if len(text) >= 3 and text[:2] in _COMPOUND_SURNAMES else 1
            return text[cut:], text[:cut]
        return "", text
    if text.count(",") == 1:
        before, after = (part.strip() for part in text.split(","))
        if after and before and _bare(after) not in _NAME_SUFFIXES:
            return after, before
        text = before
    words = text.split()
    while len(words) > 1 and _bare(words[0]) in _NAME_PREFIXES:
        words.pop(0)
    while len(words) > 1 and _bare(words[-1]) in _NAME_SUFFIXES:
        words.pop()
    if not words:
        return "", ""
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


_GENDERS = {
    "male": ("m", "male", "man", "mr", "男", "男性"),
    "female": ("f", "female", "woman", "w", "女", "女性"),
    "other": ("o", "other", "x", "diverse", "divers", "nonbinary", "non-binary", "其他"),
    "": ("u", "n", "unspecified", "unknown", "none", "not specified", "未知", "保密"),
}
_GENDER_INDEX = {word: code for code, words in _GENDERS.items() for word in words}
_KINDS = {
    "person": ("person", "individual", "private", "p", "个人", "人", "自然人"),
    "company": (
        "company",
        "org",
        "organization",
        "organisation",
        "business",
        "corporate",
        "c",
        "公司",
        "企业",
        "单位",
        "法人",
    ),
}
_KIND_INDEX = {word: code for code, words in _KINDS.items() for word in words}


def _gender(text: str) -> str:
    value = text.split(";")[0].strip()  # vCard 4.0: "M;some text"
    return _GENDER_INDEX.get(value.casefold(), value)


# --- the record ----------------------------------------------------------------------------------------

_MULTI = re.compile(r"\s+:::\s+")
_LIST_SEPARATORS = re.compile(r"\s+:::\s+|;")
_ADDRESS_PARTS = ("street", "line2", "city", "region", "postal_code", "country", "formatted")
_SYSTEM_LABELS = frozenset({"mycontacts", "starred"})  # Google's own groups, nothing to keep


@dataclass
class _Slot:
    """The values and label of one phone or e-mail group (``phone#2`` + ``phone_label#2``, or one
    ``phone:work`` column)."""

    fixed_label: str = ""
    label_text: str = ""
    values: list[str] = field(default_factory=list)


@dataclass
class _AddressSlot:
    fixed_label: str = ""
    label_text: str = ""
    parts: dict[str, list[str]] = field(default_factory=dict)


class _Builder:
    def __init__(self, default_region: str) -> None:
        self.default_region = default_region
        self.scalars: dict[str, list[str]] = {}
        self.phones: dict[str, _Slot] = {}
        self.emails: dict[str, _Slot] = {}
        self.addresses: dict[str, _AddressSlot] = {}
        self.lists: dict[str, list[str]] = {"tags": [], "categories": [], "roles": []}
        self.custom: dict[str, str] = {}
        self.related: list[tuple[str, str]] = []
        self.problems: dict[str, str] = {}
        self.notices: dict[str, str] = {}
        self.birthday_without_year = ""

    def add(self, column: str, target: str, raw: str) -> None:
        value = raw.replace("\r\n", "\n").strip()
        kind, _sep, rest = target.partition(":")
        if not is_valid_target(target):
            self.problems[column] = _("“%(target)s” is not something a column can be imported into.") % {
                "target": target
            }
        elif target in self.lists:
            self.lists[target].extend(_LIST_SEPARATORS.split(value) if value else [])
        elif kind in ("phone", "email"):
            slots = self.phones if kind == "phone" else self.emails
            slots[f"{column}\0{target}"] = _Slot(fixed_label=rest or "other", values=[value])
        elif kind.startswith(("phone#", "phone_label#", "email#", "email_label#")):
            name, _hash, n = kind.partition("#")
            slot = (self.phones if name.startswith("phone") else self.emails).setdefault(n, _Slot())
            if name.endswith("_label"):
                slot.label_text = slot.label_text or value
            else:
                slot.values.append(value)
        elif kind == "address":
            label, _sep, part = rest.partition(":")
            slot_a = self.addresses.setdefault(f"\0{label}", _AddressSlot(fixed_label=label))
            slot_a.parts.setdefault(part, []).append(value)
        elif kind.startswith("address#"):
            slot_a = self.addresses.setdefault(kind.partition("#")[2], _AddressSlot())
            slot_a.parts.setdefault(rest, []).append(value)
        elif kind.startswith("address_label#"):
            slot_a = self.addresses.setdefault(kind.partition("#")[2], _AddressSlot())
            slot_a.label_text = slot_a.label_text or value
        elif kind == "custom":
            if value and not self.custom.get(rest):
                self.custom[rest] = value
        elif kind == "related":
            self.related.extend(
                (rest, number.strip()) for number in _LIST_SEPARATORS.split(value) if number.strip()
            )
        elif value:
            self.scalars.setdefault(target, []).append(value)

    def scalar(self, target: str) -> str:
        return next(iter(self.scalars.get(target, [])), "")

    def date(self, target: str) -> str:
        text = self.scalar(target).strip()
        if target == "birth_date" and (match := _NO_YEAR.fullmatch(text)):
            self.birthday_without_year = f"{match[1]}-{match[2]}"  # a yearly date, not a birth date
            return ""
        try:
            return parse_date(text, default_region=self.default_region)
        except DateProblem as problem:
            self.problems[target] = str(problem)
            return ""

    def build(self, row: dict[str, str]) -> Record:
        if row.get(ERROR_KEY):
            self.problems[ERROR_KEY] = row[ERROR_KEY]
        if row.get(EXTRA_KEY):
            self.problems[EXTRA_KEY] = _("This row has more values than the file has columns: %(values)s") % {
                "values": row[EXTRA_KEY]
            }
        record: Record = {
            "customer_number": self.scalar("customer_number"),
            "kind": "",
            "display_name": self.scalar("display_name"),
            "given_name": self.scalar("given_name"),
            "family_name": self.scalar("family_name"),
            "legal_name": self.scalar("legal_name"),
            "company_name": self.scalar("company_name"),
            "job_title": self.scalar("job_title"),
            "birth_date": self.date("birth_date"),
            "gender": _gender(self.scalar("gender")),
            "notes": "\n".join(self.scalars.get("notes", [])),
            "status": self.scalar("status"),
            "source": self.scalar("source"),
            "industry": self.scalar("industry"),
            "owner": self.scalar("owner"),
            "founded_date": self.date("founded_date"),
            "registration_number": self.scalar("registration_number"),
            "website": self.scalar("website"),
            "external_id": self.scalar("external_id"),
            "phones": self.phone_list(),
            "emails": self.email_list(),
            "addresses": self.address_list(),
            "tags": _clean_list(self.lists["tags"], google_labels=True),
            "categories": _clean_list(self.lists["categories"]),
            "roles": _clean_list(self.lists["roles"]),
            "custom": self.custom,
            "related": list(dict.fromkeys(self.related)),
            "problems": self.problems,
            "notices": self.notices,
            "birthday_without_year": self.birthday_without_year,
        }
        self.names(record)
        return record

    def names(self, record: Record) -> None:
        full = self.scalar("full_name")
        middle = self.scalar("middle_name")
        organisation = {record["legal_name"].casefold(), record["company_name"].casefold()} - {""}
        # a display or full name that is just the company's name (Google's "File As", a vCard's FN) is
        # not a person's name
        person_named = bool(
            record["given_name"]
            or record["family_name"]
            or (full and full.casefold() not in organisation)
            or (record["display_name"] and record["display_name"].casefold() not in organisation)
        )
        kind = _KIND_INDEX.get(self.scalar("kind").casefold(), "")
        if not kind:
            kind = "person" if person_named else ("company" if organisation else "")
        record["kind"] = kind
        if kind == "company":
            record["legal_name"] = (
                record["legal_name"] or record["company_name"] or record["display_name"] or full
            )
        elif full and not (record["given_name"] or record["family_name"]):
            record["given_name"], record["family_name"] = split_full_name(full)
        if middle:
            record["given_name"] = f"{record['given_name']} {middle}".strip()
        record["display_name"] = record["display_name"] or full

    def phone_list(self) -> list[PhoneRecord]:
        phones: list[PhoneRecord] = []
        for slot in self.phones.values():
            label = slot.fixed_label or phone_label(slot.label_text)
            primary = _is_primary(slot.label_text)
            for number in _split_values(slot.values):
                phones.append({"number": number, "label": label, "primary": primary})
        return _settle(phones, lambda p: re.sub(r"[^\d+]", "", p["number"]) or p["number"].casefold())

    def email_list(self) -> list[EmailRecord]:
        emails: list[EmailRecord] = []
        for key, slot in self.emails.items():
            label = slot.fixed_label or email_label(slot.label_text)
            primary = _is_primary(slot.label_text)
            for address in _split_values(slot.values):
                if address.casefold().startswith("/o="):
                    column = key.split("\0")[0] if "\0" in key else f"email#{key}"
                    self.notices[column] = _(
                        "“%(value)s” is an Exchange (X.500) address, not an e-mail address; it was left out."
                    ) % {"value": address}
                    continue
                emails.append({"address": address, "label": label, "primary": primary})
        return _settle(emails, lambda e: e["address"].casefold())

    def address_list(self) -> list[AddressRecord]:
        addresses: list[AddressRecord] = []
        for slot in self.addresses.values():
            parts = {part: [v for v in slot.parts.get(part, []) if v] for part in _ADDRESS_PARTS}
            streets = [line.strip() for v in parts["street"] for line in v.split("\n") if line.strip()]
            line2 = [line.strip() for v in parts["line2"] for line in v.split("\n") if line.strip()]
            if not any(parts[p] for p in _ADDRESS_PARTS if p != "formatted") and parts["formatted"]:
                # only the whole address as one text: first line as the street, the rest as line 2
                streets = [line.strip() for line in parts["formatted"][0].split("\n") if line.strip()]
            if not (streets or line2 or any(parts[p] for p in ("city", "region", "postal_code", "country"))):
                continue
            addresses.append(
                {
                    "label": slot.fixed_label or email_label(slot.label_text),
                    "line1": streets[0] if streets else "",
                    "line2": ", ".join(streets[1:] + line2),
                    "city": next(iter(parts["city"]), ""),
                    "region": next(iter(parts["region"]), ""),
                    "postal_code": next(iter(parts["postal_code"]), ""),
                    "country": next(iter(parts["country"]), ""),
                }
            )
        return addresses


_Point = TypeVar("_Point", PhoneRecord, EmailRecord)


def _split_values(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in _MULTI.split(value) if part.strip()]


def _settle(items: list[_Point], key: Callable[[_Point], str]) -> list[_Point]:
    """Drop repeats (keeping a primary flag they carried) and leave exactly one primary: the first one
    marked so, else the first of all."""
    unique: dict[str, _Point] = {}
    for item in items:
        seen = unique.get(key(item))
        if seen is None:
            unique[key(item)] = item
        elif item["primary"]:
            seen["primary"] = True
    result = list(unique.values())
    first = next((i for i, item in enumerate(result) if item["primary"]), 0)
    for i, item in enumerate(result):
        item["primary"] = i == first
    return result


def _clean_list(values: list[str], *, google_labels: bool = False) -> list[str]:
    result: dict[str, str] = {}
    for raw in values:
        value = raw.strip()
        if google_labels and value.startswith("* "):
            value = value[2:].strip()
            if value.casefold() in _SYSTEM_LABELS:
                continue
        if google_labels and value.casefold() == "mycontacts":
            continue
        if value:
            result.setdefault(value.casefold(), value)
    return list(result.values())


def to_record(row: dict[str, str], mapping: dict[str, str], *, default_region: str = "") -> Record:
    """The canonical record of ``row`` under ``mapping`` (column → target; "" ignores the column).
    ``default_region`` (an ISO country code) decides how 3/4/1984 is read: month first in the US (and
    when not given), day first elsewhere."""
    builder = _Builder(default_region)
    for column, target in mapping.items():
        if target and column in row:
            builder.add(column, target, row[column])
    return builder.build(row)
