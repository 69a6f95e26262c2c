"""The Jinja2 environment of the portal's Jinja2 templates (settings.TEMPLATES).

Only the order page's lines use it (`order_lines.lines_markup`), for speed. Values are
escaped as Django's engine escapes them, so the page is byte for byte what Django's
engine wrote: markupsafe writes a quote as `&#34;` or `&#39;`, Django as `&quot;` or
`&#x27;` (the same HTML, but the tests and shoppers' saved pages see the same text).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.html import escape
from jinja2 import Environment, StrictUndefined


def escaped_as_django_does(value):
    """A text with a quote escaped by Django; anything else is left to autoescape, which
    escapes `&<>` as Django does (and safe HTML not at all)."""
    if type(value) is str:
        if '"' in value or "'" in value:
            return escape(value)
        return value
    if isinstance(value, Promise):  # a lazy translation
        return escaped_as_django_does(str(value))
    return value


def environment(*, autoescape=None, undefined=None, **options) -> Environment:
    """The environment Django's Jinja2 backend makes (its loader, its reloading), always
    autoescaped, with Django's escaping, and strict: a name the template misspells fails
    loudly rather than rendering as nothing."""
    return Environment(
        autoescape=True, finalize=escaped_as_django_does, undefined=StrictUndefined, **options
    )


def widgets_environment(*, autoescape=None, **options) -> Environment:
    """For Django's own widget templates (`forms.PortalFormRenderer`), which count on
    Jinja2's lenient undefined values: always autoescaped, with Django's escaping."""
    return Environment(autoescape=True, finalize=escaped_as_django_does, **options)
