"""Django's {# #} comments end at the line: one spread over lines is printed to the user.

Jinja2's templates (a `jinja2` folder, settings.TEMPLATES) are left out: there a comment
may span lines.
"""

import re

from django.conf import settings

TEMPLATE_ROOTS = [settings.BASE_DIR / "templates", *settings.BASE_DIR.glob("*/templates")]
UNCLOSED_COMMENT = re.compile(r"\{#(?:(?!#\}).)*$", re.M)


def test_no_template_has_a_comment_spread_over_lines():
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{text[: match.start()].count(chr(10)) + 1}"
        for root in TEMPLATE_ROOTS
        for path in sorted(root.rglob("*"))
        if path.suffix in {".html", ".txt", ".xml", ".svg"}
        and "jinja2" not in path.relative_to(root).parts
        for text in [path.read_text(encoding="utf-8")]
        for match in UNCLOSED_COMMENT.finditer(text)
    ]
    assert offenders == []
