"""A form renderer that writes the common widgets in Python.

Django renders every widget through the template engine, one ``{% include %}`` per attribute list and per
``<option>``: about 0.6 ms for a select. A customer page carries a dozen widgets, so that was a third of its
time. The plain widgets (inputs, selects, text areas) are written here with the same HTML Django's
templates produce (``kith/core/tests/test_forms_renderer.py`` compares them); anything else falls back to
the templates.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> str:
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def _input(widget: dict[str, Any]) -> str:
    value = widget.get("value")
    value_attr = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value_attr}{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict[str, Any]) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'<optgroup label="{conditional_escape(group_name)}">')
        for option in options:  # "selected" is among the option's attrs
            parts.append(
                f'<option value="{conditional_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>"
            )
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    return "".join(parts)


def _textarea(widget: dict[str, Any]) -> str:
    value = widget.get("value")
    body = conditional_escape(value) if value else ""
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{body}</textarea>'
    )


_INPUTS = {
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "tel",
        "color",
    )
}
_FAST = {
    **dict.fromkeys(_INPUTS, _input),
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/textarea.html": _textarea,
}


class FastWidgetRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> SafeString:
        fast = _FAST.get(template_name)
        widget = context.get("widget")
        if fast is not None and isinstance(widget, dict) and "attrs" in widget:
            try:
                return mark_safe(fast(widget))  # noqa: S308 - every value above is escaped
            except KeyError:
                pass  # an unusual widget context: let the template handle it
        return mark_safe(super().render(template_name, context, request))  # noqa: S308
