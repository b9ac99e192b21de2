"""The Simplified Chinese catalogue: complete, placeholder-safe, compiled, and served by the locale middleware."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

LC_MESSAGES = Path(settings.BASE_DIR) / "kith" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")
BARE = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifr]")
BRACED = re.compile(r"\{\w*(?::\w+)?\}")


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    line: int = 0


def parse_po(path: Path) -> list[Entry]:
    """A small reader for the subset of the .po format that makemessages writes."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] = ("msgid", 0)

    def append(kind: str, index: int, text: str) -> None:
        assert current is not None
        if kind == "msgstr":
            while len(current.msgstr) <= index:
                current.msgstr.append("")
            current.msgstr[index] += text
        elif kind == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + text
        elif kind == "msgid":
            current.msgid += text
        else:
            current.msgctxt = (current.msgctxt or "") + text

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            flags = [f.strip() for f in line[2:].split(",")]
            if current is None or current.msgstr:
                current = Entry(line=number)
                entries.append(current)
            current.flags += flags
        elif line.startswith("msgctxt "):
            if current is None or current.msgstr:
                current = Entry(line=number)
                entries.append(current)
            current.msgctxt = ast.literal_eval(line[8:])
            target = ("msgctxt", 0)
        elif line.startswith("msgid "):
            if current is None or current.msgstr:
                current = Entry(line=number)
                entries.append(current)
            target = ("msgid", 0)
            append("msgid", 0, ast.literal_eval(line[6:]))
        elif line.startswith("msgid_plural "):
            target = ("msgid_plural", 0)
            append("msgid_plural", 0, ast.literal_eval(line[13:]))
        elif line.startswith("msgstr"):
            keyword, text = line.split(" ", 1)
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            target = ("msgstr", index)
            append("msgstr", index, ast.literal_eval(text))
        elif line.startswith('"'):
            append(target[0], target[1], ast.literal_eval(line))
    return entries


def placeholders(text: str) -> tuple[list[str], int, list[str]]:
    without_named = NAMED.sub("", text).replace("%%", "")  # a literal percent sign is no placeholder
    return sorted(NAMED.findall(text)), len(BARE.findall(without_named)), sorted(BRACED.findall(text))


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    entries = parse_po(PO_FILE)
    assert entries and entries[0].msgid == ""
    return entries


def test_header_declares_simplified_chinese(catalogue):
    header = catalogue[0]
    assert "fuzzy" not in header.flags
    text = header.msgstr[0]
    assert "Language: zh_Hans\n" in text
    assert "Plural-Forms: nplurals=1; plural=0;\n" in text
    assert "charset=UTF-8" in text


def test_every_message_is_translated(catalogue):
    messages = catalogue[1:]
    assert len(messages) > 600
    untranslated = [e.msgid for e in messages if not e.msgstr or not all(s.strip() for s in e.msgstr)]
    assert untranslated == []
    assert [e.msgid for e in messages if "fuzzy" in e.flags] == []
    # One plural form in Chinese: exactly msgstr[0].
    assert [e.msgid for e in messages if e.msgid_plural is not None and len(e.msgstr) != 1] == []


def test_placeholders_survive_translation(catalogue):
    wrong = []
    for e in catalogue[1:]:
        expected = placeholders(e.msgid)
        if e.msgid_plural is not None:
            # Chinese uses the plural sentence for every count.
            expected = placeholders(e.msgid_plural)
        for text in e.msgstr:
            if placeholders(text) != expected:
                wrong.append((e.line, e.msgid, text))
    assert wrong == []


def test_compiled_catalogue_matches_the_po(catalogue):
    with MO_FILE.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    assert compiled.info().get("language") == "zh_Hans"
    stale = []
    for e in catalogue[1:]:
        if e.msgctxt is not None and e.msgid_plural is None:
            got = compiled.pgettext(e.msgctxt, e.msgid)
        elif e.msgctxt is not None:
            got = compiled.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 2)
        elif e.msgid_plural is None:
            got = compiled.gettext(e.msgid)
        else:
            got = compiled.ngettext(e.msgid, e.msgid_plural, 2)
        if got != e.msgstr[0]:
            stale.append(e.msgid)
    assert stale == [], "django.mo is out of date; run msgfmt on django.po"


@pytest.mark.django_db
def test_login_page_is_chinese_for_chinese_browsers(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>登录</h1>" in page
    assert "Sign in" not in page
    assert response.headers["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_login_page_stays_english_for_english_browsers(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Sign in</h1>" in page
    assert "登录" not in page
