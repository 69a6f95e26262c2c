"""The Jinja2 environment of the portal's Jinja2 templates (settings.TEMPLATES).

Only the order page's lines use it (`order_lines.lines_markup`), for speed. Values are
escaped as Django's engine escapes them, so the page is byte for byte what Django's
engine wrote: markupsafe writes a quote as `&#34;` or `&#39;`, Django as `&quot;` or
`&#x27;` (the same HTML, but the tests and shoppers' saved pages see the same text).
"""

from __future__ import annotations

from django.utils.html import escape
from jinja2 import Environment, StrictUndefined


def escaped_as_django_does(value):
    """`value` escaped by Django (already safe HTML and numbers pass as they are)."""
    if hasattr(value, "__html__") or type(value) is int:
        return value
    return escape(value)


def environment(*, autoescape=None, undefined=None, **options) -> Environment:
    """The environment Django's Jinja2 backend makes (its loader, its reloading), always
    autoescaped, with Django's escaping, and strict: a name the template misspells fails
    loudly rather than rendering as nothing."""
    return Environment(
        autoescape=True, finalize=escaped_as_django_does, undefined=StrictUndefined, **options
    )
