"""The German catalogue is complete and its compiled .mo matches the .po."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

CATALOGUE = settings.BASE_DIR / "locale" / "de" / "LC_MESSAGES"
ENTRY = re.compile(
    r'^(?:msgctxt (?P<ctx>".*")\n)?msgid (?P<id>".*"(?:\n".*")*)\n'
    r'(?:msgid_plural (?P<plural>".*"(?:\n".*")*)\n)?'
    r"(?P<strs>(?:msgstr(?:\[\d\])? \".*\"(?:\n\".*\")*\n?)+)",
    re.M,
)


def _text(quoted: str) -> str:
    return "".join(ast.literal_eval(part) for part in quoted.split("\n"))


def po_entries(path=CATALOGUE / "django.po"):
    """(context, msgid, plural, [msgstr, ...], flags) of every live entry of a django.po."""
    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:
        if block.startswith("#~"):
            continue
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        match = ENTRY.search(block)
        assert match, block
        strs = re.findall(r"msgstr(?:\[\d\])? (\".*\"(?:\n\".*\")*)", match["strs"])
        yield (
            _text(match["ctx"]) if match["ctx"] else None,
            _text(match["id"]),
            _text(match["plural"]) if match["plural"] else None,
            [_text(value) for value in strs],
            flags,
        )


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = list(po_entries())
    assert len(entries) > 100
    untranslated = [msgid for _, msgid, _, strs, _ in entries if not all(strs)]
    fuzzy = [msgid for _, msgid, _, _, flags in entries if "fuzzy" in flags]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOGUE / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for context, msgid, plural, strs, _ in po_entries():
        if plural:
            assert catalogue.ngettext(msgid, plural, 1) == strs[0], msgid
            assert catalogue.ngettext(msgid, plural, 5) == strs[1], msgid
        elif context:
            assert catalogue.pgettext(context, msgid) == strs[0], msgid
        else:
            assert catalogue.gettext(msgid) == strs[0], msgid


@pytest.mark.django_db
def test_portal_speaks_german_when_asked(client, order):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    html = client.get(reverse("portal:lookup")).content.decode()
    assert '<html lang="de">' in html
    assert "Bestellnummer" in html
    assert "Meine Bestellung finden" in html
    client.post(
        reverse("portal:lookup"),
        {"order_number": order.order_id, "contact": order.customer_email},
    )
    page = client.get(
        reverse("portal:order", kwargs={"store_code": "TMSUS", "order_id": order.order_id})
    ).content.decode()
    assert "kann nicht zurückgegeben werden" in page
    assert "Rücksendung anfordern" in page
    assert "Defekt oder beschädigt" in page  # a built-in reason, translated


def test_every_string_marked_for_translation_is_in_the_catalogue(tmp_path):
    """A string added to the code or templates without a German entry fails here.

    Extracts the messages from a copy of the project (the committed catalogue is never
    touched) and compares them with the committed django.po.
    """
    source = settings.BASE_DIR
    project = tmp_path / "project"
    ignored = shutil.ignore_patterns(
        ".git",
        ".venv",
        "node_modules",
        "media",
        ".test-media",
        "staticfiles",
        "test-artifacts",
        "*.pyc",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        "*.sqlite3",
    )
    shutil.copytree(source, project, ignore=ignored)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "de",
            "--no-obsolete",
            "--ignore",
            "bench/*",
            "--ignore",
            "tests/*",
            "--ignore",
            "docs/*",
        ],
        cwd=project,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "returns_portal.settings.test"},
    )
    extracted_po = project / "locale" / "de" / "LC_MESSAGES" / "django.po"
    extracted = {(context, msgid) for context, msgid, *_ in po_entries(extracted_po)}
    committed = {(context, msgid) for context, msgid, *_ in po_entries()}
    assert sorted(extracted - committed, key=str) == []
