"""Query values for each search kind, derived from customers sampled out of the bench database."""

from __future__ import annotations

import random
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

import phonenumbers

_WORD = re.compile(r"[^\W_]+")


@dataclass
class Query:
    text: str
    expect: str  # the customer number the query was made from

    @property
    def path(self) -> str:
        return "/api/v1/customers/?" + urllib.parse.urlencode({"q": self.text})


def has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def _latin_letters(text: str) -> bool:
    return text.isascii() and sum(ch.isalpha() for ch in text) >= 5


def format_phone(e164: str, style: int) -> str:
    """The same number as people write it: "+86 138-0013-8000", "138 0013 8000", "(201) 555-0123"."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if style % 2 == 0:
        text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        code, _sep, rest = text.partition(" ")
        return f"{code} {rest.replace(' ', '-')}" if rest else text
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _prefix(name: str, rng: random.Random) -> str:
    size = min(len(name), rng.randint(4, 7)) if not has_han(name) else min(len(name), rng.randint(2, 3))
    return name[:size].rstrip() if len(name[:size].strip()) >= 2 else name


def _fragment(name: str, rng: random.Random) -> str | None:
    """Part of a word of the name, 4-6 letters, never the name's start: "illia" of "Williams and Jones"."""
    spots = []
    for m in _WORD.finditer(name):
        first = 1 if m.start() == 0 else 0  # a fragment of the first word must not start the name
        if m.end() - m.start() - first >= 4:
            spots.append((m.start() + first, m.end()))
    if not spots:
        return None
    lo, hi = rng.choice(spots)
    size = min(hi - lo, 4 if has_han(name) else rng.randint(4, 6))
    start = rng.randint(lo, hi - size)
    return name[start : start + size]


def _typo(name: str, rng: random.Random) -> str | None:
    """The name with two adjacent small letters swapped (not the first letter, not two equal letters)."""
    spots = [
        i
        for i in range(1, len(name) - 1)
        if name[i].islower() and name[i + 1].islower() and name[i] != name[i + 1]
    ]
    if not spots:
        return None
    i = rng.choice(spots)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def _pinyin(name: str) -> tuple[str, str]:
    from pypinyin import Style, lazy_pinyin

    syllables = [s.lower() for s in lazy_pinyin(name, style=Style.NORMAL, errors="ignore") if s.strip()]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


def build_queries(customers: list[dict[str, Any]], seed: int = 11) -> dict[str, list[Query]]:
    """Per search kind, one query per sampled customer that suits it (a value is used once)."""
    rng = random.Random(seed)
    out: dict[str, list[Query]] = {
        k: []
        for k in (
            "number",
            "phone",
            "email",
            "name_prefix",
            "name_substring",
            "typo",
            "pinyin_full",
            "pinyin_initials",
        )
    }
    for i, c in enumerate(customers):
        number, name = c["customer_number"], (c.get("display_name") or "").strip()
        out["number"].append(Query(number, number))
        if c.get("phones"):
            out["phone"].append(Query(format_phone(c["phones"][0], i), number))
        if c.get("emails"):
            out["email"].append(Query(c["emails"][0], number))
        if len(name) >= 4:
            out["name_prefix"].append(Query(_prefix(name, rng), number))
        if c.get("kind") == "company" and name:
            piece = _fragment(name, rng)
            if piece:
                out["name_substring"].append(Query(piece, number))
        if _latin_letters(name):
            typo = _typo(name, rng)
            if typo:
                out["typo"].append(Query(typo, number))
        if has_han(name) and c.get("kind") == "person":
            full, initials = _pinyin(name)
            if len(full) >= 2:
                out["pinyin_full"].append(Query(full, number))
            if len(initials) >= 2:
                out["pinyin_initials"].append(Query(initials, number))
    if not out["typo"]:  # no Latin names at all: swap two characters of Chinese names instead
        for c in customers:
            name = (c.get("display_name") or "").strip()
            if len(name) >= 3:
                chars = list(name)
                chars[1], chars[2] = chars[2], chars[1]
                if "".join(chars) != name:
                    out["typo"].append(Query("".join(chars), c["customer_number"]))
    return out
