"""RMA numbers (docs/eligibility.md): random, short, readable aloud, with a check character.

Canonical form: three groups of four characters, `XXXX-XXXX-XXXX` (14 characters). The
alphabet leaves out 0/O, 1/I/L so nothing is ambiguous; it has 31 symbols, a prime, so a
weighted mod-31 check character catches every single wrong character and every swap of
two neighbours.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError

Result = TypeVar("Result")

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
BODY_LENGTH = 11
GROUP = 4


def check_character(body: str) -> str:
    total = sum((position + 1) * ALPHABET.index(char) for position, char in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def format_rma_number(compact: str) -> str:
    return "-".join(compact[i : i + GROUP] for i in range(0, len(compact), GROUP))


def new_rma_number() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_rma_number(body + check_character(body))


def normalise_rma_number(text: str) -> str | None:
    """The canonical number for what a person typed or a scanner read, or None if invalid.

    Spaces, hyphens and letter case are ignored; a wrong check character is invalid.
    """
    compact = "".join(char for char in (text or "").upper() if char not in " -_.\t")
    if len(compact) != BODY_LENGTH + 1 or any(char not in ALPHABET for char in compact):
        return None
    if check_character(compact[:-1]) != compact[-1]:
        return None
    return format_rma_number(compact)


# Drawn at random from 31^11 (about 2.5e16) bodies, a number is taken with a chance of
# the RMAs stored divided by that: a retry is all but never needed, a third never.
NUMBER_ATTEMPTS = 3


def retry_if_number_taken(attempt: Callable[[], Result]) -> Result:
    """Run `attempt` again when an RMA number it drew was taken.

    `attempt` is a whole transaction (or savepoint), rolled back when it raises: the
    unique index on `Rma.rma_number` refuses a taken number, so no query probes each new
    number beforehand.
    """
    for _ in range(NUMBER_ATTEMPTS - 1):
        try:
            return attempt()
        except IntegrityError as error:
            if not is_number_taken(error):
                raise
    return attempt()


def is_number_taken(error: IntegrityError) -> bool:
    """The insert failed on the RMA number's unique index (its column names it, in
    PostgreSQL's and SQLite's messages alike)."""
    return "rma_number" in str(error)
