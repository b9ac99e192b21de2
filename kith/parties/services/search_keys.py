"""The normalised keys a customer is found by: casefolded name, pinyin and pinyin initials."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")


def has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def fold(text: str) -> str:
    """Casefold, strip accents and squeeze spaces: "  Müller  GmbH" -> "muller gmbh"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


@lru_cache(maxsize=4096)
def pinyin_keys(text: str) -> tuple[str, str]:
    """("zhangsan", "zs") for 张三; ("", "") when the text has no Chinese characters."""
    if not has_han(text):
        return "", ""
    from pypinyin import Style, lazy_pinyin

    syllables = [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s.strip()]
    syllables = [fold(s).replace(" ", "") for s in syllables]
    return "".join(syllables)[:400], "".join(s[0] for s in syllables if s)[:60]


def name_keys(display_name: str) -> tuple[str, str, str]:
    """(search name, pinyin, initials). A Chinese name's search name ends with its pinyin and initials,
    "张三 zhangsan zs", so one substring index finds it by characters or by pinyin; it still sorts by
    the characters."""
    full, initials = pinyin_keys(display_name or "")
    folded = fold(display_name)
    if full:
        suffix = f" {full} {initials}"
        folded = folded[: max(0, 200 - len(suffix))] + suffix
    return folded[:200], full, initials


def word_orders(name: str) -> list[str]:
    """``name`` and its word orders that put another word first ("berg anna" for "anna berg"; for three
    words both the last and the second word first): looking among the names that sort next to each finds a
    customer whose name was written family name first."""
    words = name.split()
    if len(words) < 2:
        return [name]
    return list(dict.fromkeys([name, " ".join([words[-1], *words[:-1]]), " ".join([*words[1:], words[0]])]))
