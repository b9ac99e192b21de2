"""The data-subject registry: every module that holds data about a customer registers a section once.

``register_subject_data("orders", rows, columns=(...), erase=...)`` (from ``AppConfig.ready``):

- ``rows(customer)`` returns the section's rows as flat dicts (JSON-serialisable values); the export
  writes them to ``subject.json`` and to ``<name>.csv``;
- ``columns`` names the CSV columns, so an empty section still has a header;
- ``erase(customer, actor)`` (optional) removes or redacts the section's personal data when the customer
  is erased and returns a count for the erasure summary. Sections without it keep their data (business
  records), so a module that stores free text about a person must provide it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Rows = Callable[[Any], Iterable[dict[str, Any]]]
Eraser = Callable[[Any, Any], int]


@dataclass(frozen=True)
class SubjectSection:
    name: str
    rows: Rows
    columns: tuple[str, ...] = ()
    erase: Eraser | None = None


_sections: dict[str, SubjectSection] = {}


def register_subject_data(
    name: str, rows: Rows, *, columns: Iterable[str] = (), erase: Eraser | None = None
) -> SubjectSection:
    if not name.replace("_", "").isalnum() or not name.islower():
        raise ValueError(f"section names are lowercase words joined by _, not {name!r}")
    section = SubjectSection(name=name, rows=rows, columns=tuple(columns), erase=erase)
    _sections[name] = section
    return section


def sections() -> list[SubjectSection]:
    return list(_sections.values())


def register_builtin_sections() -> None:
    """Customer records (parties) and consents: the sections Kith itself holds."""
    from kith.privacy.selectors import subject

    for name, rows, columns in subject.BUILTIN_SECTIONS:
        register_subject_data(name, rows, columns=columns)
