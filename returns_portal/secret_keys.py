"""Production refuses a signing key that anyone could know.

`SECRET_KEY` signs the shoppers' status, label and cancel links; whoever knows it can
forge them. A key that appears anywhere in the code base (a default in the settings,
the compose file, an `.env` example, the docs, a test) is public, so production
refuses it at start-up, whatever its length. The check reads the files of the project
directory itself, so a key added to any of them later is refused too, without a list
to keep up to date.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MINIMUM_LENGTH = 50
MINIMUM_DISTINCT_CHARACTERS = 5
# Not part of the code base: tools' caches, virtual environments, git's objects, uploaded
# and generated files.
SKIPPED_DIRECTORIES = frozenset(
    {"__pycache__", "node_modules", "media", "staticfiles", "sent-emails", "test-artifacts"}
)
# The operator's own settings file (never committed: see .gitignore) is where a real key
# belongs.
SKIPPED_FILES = frozenset({".env"})
# Larger files are data (fonts, images), not places where anyone writes a key.
MAXIMUM_FILE_BYTES = 2 * 1024 * 1024


def repository_files(root: Path, *, skip: Iterable[Path] = ()) -> Iterator[Path]:
    """Every file of the project directory a key could have been written into."""
    skipped = {Path(path).resolve() for path in skip}
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".")
            and name not in SKIPPED_DIRECTORIES
            and not name.endswith(".egg-info")
            and (Path(directory) / name).resolve() not in skipped
        ]
        for name in files:
            if name not in SKIPPED_FILES:
                yield Path(directory) / name


def key_found_in(key: str, root: Path, *, skip: Iterable[Path] = ()) -> Path | None:
    """The first project file that contains `key`, or None."""
    needle = key.encode()
    for path in repository_files(root, skip=skip):
        try:
            if path.stat().st_size > MAXIMUM_FILE_BYTES:
                continue
            if needle in path.read_bytes():
                return path
        except OSError:  # unreadable or vanished: not a file anyone ships
            continue
    return None


def check_secret_key(key: str, *, root: Path, name: str = "SECRET_KEY", skip=()) -> None:
    """Raise `ImproperlyConfigured` unless `key` is long, varied and in no project file."""
    if (
        len(key) < MINIMUM_LENGTH
        or len(set(key)) < MINIMUM_DISTINCT_CHARACTERS
        or key.startswith(("insecure", "django-insecure"))
    ):
        raise ImproperlyConfigured(
            f"{name} must be set to a random value of at least {MINIMUM_LENGTH} characters"
        )
    found = key_found_in(key, root, skip=skip)
    if found is not None:
        raise ImproperlyConfigured(
            f"{name} appears in {found.relative_to(root)}: a key written in the code base is "
            'public. Generate a new one, e.g. python -c "import secrets; '
            'print(secrets.token_urlsafe(64))"'
        )
