"""Customer numbers: an admin-set pattern such as ``C{year}{seq:06}``, numbers never reused."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kith.core.settings_store import get_setting, set_setting
from kith.parties.models import Customer, CustomerNumberSequence

PATTERN_SETTING = "parties.customer_number_pattern"
_SEQ = re.compile(r"\{seq(?::(0?\d{1,2}d?))?\}")
_ALLOWED_FIELDS = {"year", "month", "seq"}


@dataclass(frozen=True)
class NumberPattern:
    prefix: str
    seq_spec: str
    suffix: str

    def scope(self, *, year: int, month: int) -> str:
        return f"{self.prefix.format(year=year, month=month)}…{self.suffix.format(year=year, month=month)}"

    def render(self, seq: int, *, year: int, month: int) -> str:
        spec = self.seq_spec or "d"
        return f"{self.prefix.format(year=year, month=month)}{seq:{spec}}{self.suffix.format(year=year, month=month)}"


def validate_pattern(pattern: str) -> NumberPattern:
    """``{year}``, ``{month:02}`` and exactly one ``{seq}``/``{seq:06}``; at most 40 characters rendered."""
    pattern = (pattern or "").strip()
    matches = list(_SEQ.finditer(pattern))
    if len(matches) != 1:
        raise ValidationError(
            {"pattern": _("The pattern must contain {seq} exactly once, e.g. C{year}{seq:06}.")}
        )
    try:
        fields = {name for _t, name, _s, _c in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise ValidationError(
            {"pattern": _("The pattern is not well formed: %(error)s") % {"error": exc}}
        ) from exc
    unknown = fields - _ALLOWED_FIELDS
    if unknown:
        raise ValidationError(
            {
                "pattern": _("Unknown placeholder(s): %(names)s. Use {year}, {month} and {seq}.")
                % {"names": ", ".join(sorted(unknown))}
            }
        )
    match = matches[0]
    spec = match.group(1) or ""
    if spec and not spec.endswith("d"):
        spec += "d"
    result = NumberPattern(prefix=pattern[: match.start()], seq_spec=spec, suffix=pattern[match.end() :])
    try:
        sample = result.render(1, year=2026, month=1)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationError(
            {"pattern": _("The pattern is not well formed: %(error)s") % {"error": exc}}
        ) from exc
    if len(sample) > 30:
        raise ValidationError({"pattern": _("Customer numbers made by this pattern would be too long.")})
    return result


def current_pattern() -> str:
    return str(get_setting(PATTERN_SETTING, settings.KITH_CUSTOMER_NUMBER_PATTERN))


def set_pattern(pattern: str) -> None:
    validate_pattern(pattern)
    set_setting(PATTERN_SETTING, pattern.strip())


def allocate_customer_numbers(count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive numbers in one statement (bulk imports and demo data take blocks)."""
    pattern = validate_pattern(current_pattern())
    now = timezone.now()
    scope = pattern.scope(year=now.year, month=now.month)
    with transaction.atomic():
        bumped = CustomerNumberSequence.objects.filter(scope=scope).update(last_value=F("last_value") + count)
        if not bumped:  # the first number of this scope
            CustomerNumberSequence.objects.get_or_create(scope=scope)
            CustomerNumberSequence.objects.filter(scope=scope).update(last_value=F("last_value") + count)
        last = CustomerNumberSequence.objects.values_list("last_value", flat=True).get(scope=scope)
        numbers = [
            pattern.render(seq, year=now.year, month=now.month) for seq in range(last - count + 1, last + 1)
        ]
        # A pattern changed back and forth could meet numbers already given: skip past them. One range
        # probe on the unique index clears a whole block in the usual case; only then check each number.
        taken: set[str] = set()
        if Customer.objects.filter(
            customer_number__gte=min(numbers), customer_number__lte=max(numbers)
        ).exists():
            taken = set(
                Customer.objects.filter(customer_number__in=numbers).values_list("customer_number", flat=True)
            )
        if taken:
            free = [n for n in numbers if n not in taken]
            return free + allocate_customer_numbers(count - len(free))
        return numbers
