"""The fast widget renderer writes exactly what Django's widget templates write."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test import SimpleTestCase

from kith.core.forms_renderer import FastWidgetRenderer


class Sample(forms.Form):
    name = forms.CharField(max_length=20, help_text="x", widget=forms.TextInput({"placeholder": 'a "b" <c>'}))
    email = forms.EmailField(required=False)
    count = forms.IntegerField(min_value=0)
    when = forms.DateField(widget=forms.DateInput({"type": "date"}))
    at = forms.DateTimeField(widget=forms.DateTimeInput({"type": "datetime-local"}))
    kind = forms.ChoiceField(choices=[("", "Any"), ("a", "A & B"), ("b", "<b>")])
    grouped = forms.ChoiceField(choices=[("Fruit", [("1", "Apple"), ("2", "Pear")]), ("3", "Other")])
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)
    notes = forms.CharField(widget=forms.Textarea({"rows": 3}), required=False)
    secret = forms.CharField(widget=forms.HiddenInput)
    url = forms.URLField(required=False, assume_scheme="https")
    agree = forms.BooleanField(required=False)  # not a fast widget: falls back to the template


@pytest.mark.parametrize(
    "data",
    [
        None,
        {
            "name": "Zoë <script>",
            "email": "a@b.c",
            "count": "-3",
            "when": "2026-02-30",
            "at": "2026-01-01T10:00",
            "kind": "a",
            "grouped": "2",
            "many": ["x", "y"],
            "notes": "line 1\n<line 2>",
            "secret": '"quoted"',
            "url": "javascript:alert(1)",
            "agree": "on",
        },
    ],
)
def test_same_html_as_django_templates(data):
    initial = {"when": dt.date(2026, 1, 2), "kind": "b", "notes": "Hi & bye"}
    fast = Sample(data, initial=initial, renderer=FastWidgetRenderer())
    slow = Sample(data, initial=initial, renderer=DjangoTemplates())
    checker = SimpleTestCase()
    for name in Sample.base_fields:
        checker.assertHTMLEqual(str(fast[name]), str(slow[name]), msg=name)
    assert "<script>" not in str(fast["name"])
