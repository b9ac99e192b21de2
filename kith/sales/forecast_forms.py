"""Forms of the forecast pages: the period, subject and currency pickers, and the sales target form (the
service checks the substance; its errors land on these fields)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kith.sales import currencies
from kith.sales.selectors import forecast as selectors

LONGEST_PERIOD = 3660  # days a report may cover (ten years)
PERIOD_CHOICES = [
    ("month", _("this month")),
    ("quarter", _("this quarter")),
    ("year", _("this year")),
    ("custom", _("custom")),
]


def default_currency() -> str:
    from kith.sales.services.approvals import FALLBACK_CURRENCY

    return currencies.default_code() or FALLBACK_CURRENCY


def currency_choices() -> list[tuple[str, str]]:
    """Every currency, the default one first (what an empty choice means)."""
    first = default_currency()
    return [(first, first), *(c for c in currencies.choices() if c[0] != first)]


def subject_choices(user: Any) -> list[tuple[Any, Any]]:
    """ "" (me), ``u<id>`` for a person and ``t<id>`` for a team in ``user``'s reach."""
    people = [
        (f"u{p.pk}", str(p))
        for p in selectors.people_in_reach(user).filter(is_active=True)
        if p.pk != user.pk
    ]
    teams = [(f"t{t.pk}", t.name) for t in selectors.teams_in_reach(user)]
    choices: list[tuple[Any, Any]] = [("", _("me"))]
    if people:
        choices.append((_("People"), people))
    if teams:
        choices.append((_("Teams"), teams))
    return choices


def parse_subject(value: str) -> tuple[int | None, int | None]:
    """(user id, team id) from ``u12`` / ``t3``; (None, None) for me."""
    if len(value) > 1 and value[0] in "ut" and value[1:].isdigit():
        key = int(value[1:])
        return (key, None) if value[0] == "u" else (None, key)
    return None, None


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PeriodForm(forms.Form):
    """A period: this month, quarter or year, or from–to (both days included). The date fields show the
    period shown; dates changed away from the chosen preset make the period a custom one (so editing the
    dates works without touching the picker, and without JavaScript)."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            start, end = selectors.period_of("month")
            self.initial.setdefault("period", "month")
            self.initial.setdefault("date_from", start)
            self.initial.setdefault("date_to", end)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        kind = data.get("period") or ""
        if kind in selectors.PERIODS:
            preset = selectors.period_of(kind)
            given = (start or preset[0], end or preset[1])
            if (start or end) and given != preset:
                kind, start, end = "custom", given[0], given[1]
        elif not kind:
            kind = "custom" if start or end else "month"
        data["period"] = kind
        if kind != "custom":
            data["date_from"], data["date_to"] = selectors.period_of(kind)
            return data
        data["date_from"], data["date_to"] = start, end
        if start is None and "date_from" not in self.errors:
            self.add_error("date_from", _("Give the first day of the period."))
        if end is None and "date_to" not in self.errors:
            self.add_error("date_to", _("Give the last day of the period."))
        if start and end:
            if end < start:
                self.add_error("date_to", _("The period ends before it starts."))
            elif (end - start).days >= LONGEST_PERIOD:
                self.add_error("date_to", _("A period covers at most ten years."))
        return data

    def dates(self) -> tuple[dt.date, dt.date]:
        """The period asked for; this month when the form is not valid."""
        if self.is_valid():
            return self.cleaned_data["date_from"], self.cleaned_data["date_to"]
        return selectors.period_of("month")

    def show_period(self) -> None:
        """Let the picker show the period used (a bound form shows what was sent otherwise)."""
        if self.is_bound and self.is_valid():
            data = self.data.copy()  # type: ignore[attr-defined]
            data["period"] = self.cleaned_data["period"]
            data["date_from"] = self.cleaned_data["date_from"].isoformat()
            data["date_to"] = self.cleaned_data["date_to"].isoformat()
            self.data = data


class ForecastForm(PeriodForm):
    subject = forms.ChoiceField(label=_("Whose numbers"), required=False, choices=())
    currency = forms.ChoiceField(label=_("Report in"), required=False, choices=())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        subject = self.fields["subject"]
        assert isinstance(subject, forms.ChoiceField)
        subject.choices = subject_choices(user)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = currency_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["currency"] = data.get("currency") or default_currency()
        return data


class LeaderboardForm(PeriodForm):
    currency = forms.ChoiceField(label=_("Report in"), required=False, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = currency_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["currency"] = data.get("currency") or default_currency()
        return data


class FunnelForm(PeriodForm):
    pipeline = forms.ChoiceField(label=_("Pipeline"), required=False, choices=())

    def __init__(self, *args: Any, pipelines: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["pipeline"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(p.pk), p.name) for p in pipelines]


class TargetFilterForm(forms.Form):
    subject = forms.ChoiceField(label=_("Person or team"), required=False, choices=())
    on = forms.DateField(label=_("Covering the day"), required=False, widget=DateInput())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["subject"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("all")), *target_subject_choices(user, everyone_visible=True)]


def target_subject_choices(user: Any, *, everyone_visible: bool = False) -> list[tuple[Any, Any]]:
    """People and teams whose targets ``user`` may set (``everyone_visible``: whose targets they see)."""
    from django.contrib.auth import get_user_model

    from kith.sales.choices import OPPORTUNITY
    from kith.sales.services.targets import may_set_target
    from kith.security.models import Team
    from kith.security.rules import ADMINISTER, has_permission

    if has_permission(user, OPPORTUNITY, ADMINISTER):
        people = list(get_user_model().objects.filter(is_active=True).order_by("display_name", "username"))
        teams = list(Team.objects.order_by("name"))
    else:
        people = list(selectors.people_in_reach(user).filter(is_active=True))
        teams = selectors.teams_in_reach(user)
        if not everyone_visible:
            people = [p for p in people if p.pk != user.pk]
            teams = [t for t in teams if may_set_target(user, team=t)]
    choices: list[tuple[Any, Any]] = []
    if people:
        choices.append((_("People"), [(f"u{p.pk}", str(p)) for p in people]))
    if teams:
        choices.append((_("Teams"), [(f"t{t.pk}", t.name) for t in teams]))
    return choices


class TargetForm(forms.Form):
    subject = forms.ChoiceField(label=_("Person or team"), required=False, choices=())
    period_start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    period_end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    amount = forms.CharField(
        label=_("Amount"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False, choices=())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = [("", "—"), *currencies.choices()]
        if editing:
            del self.fields["subject"]
        else:
            subject = self.fields["subject"]
            assert isinstance(subject, forms.ChoiceField)
            subject.choices = [("", "—"), *target_subject_choices(user)]
        for name in ("subject", "period_start", "period_end", "amount", "currency"):
            if name in self.fields:
                self.fields[name].show_required = True  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        subject = data.pop("subject", None)
        if subject is not None or "subject" in self.fields:
            user_id, team_id = parse_subject(subject or "")
            data["user"], data["team"] = user_id, team_id
        return data
