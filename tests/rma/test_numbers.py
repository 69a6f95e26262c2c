"""RMA numbers: short, unambiguous, random, and a mistyped one is rejected."""

import pytest
from django.db import IntegrityError

from rma.numbers import (
    ALPHABET,
    NUMBER_ATTEMPTS,
    new_rma_number,
    normalise_rma_number,
    retry_if_number_taken,
)


def test_numbers_are_short_and_use_only_unambiguous_characters():
    number = new_rma_number()
    assert len(number) <= 16
    assert set(number.replace("-", "")) <= set(ALPHABET)
    assert not set("01OIL") & set(ALPHABET)


def test_numbers_are_not_sequential():
    numbers = {new_rma_number() for _ in range(1000)}
    assert len(numbers) == 1000


@pytest.mark.parametrize("typed", ["{n}", "{n_lower}", "{n_compact}", " {n_spaced} "])
def test_typed_forms_normalise_to_the_canonical_number(typed):
    number = new_rma_number()
    forms = {
        "n": number,
        "n_lower": number.lower(),
        "n_compact": number.replace("-", ""),
        "n_spaced": number.replace("-", " "),
    }
    assert normalise_rma_number(typed.format(**forms)) == number


def test_every_single_character_substitution_is_rejected():
    number = new_rma_number()
    compact = number.replace("-", "")
    for position, original in enumerate(compact):
        for replacement in ALPHABET:
            if replacement != original:
                typo = compact[:position] + replacement + compact[position + 1 :]
                assert normalise_rma_number(typo) is None


def test_every_swap_of_neighbours_is_rejected():
    compact = new_rma_number().replace("-", "")
    for position in range(len(compact) - 1):
        a, b = compact[position], compact[position + 1]
        if a != b:
            swapped = compact[:position] + b + a + compact[position + 2 :]
            assert normalise_rma_number(swapped) is None


@pytest.mark.parametrize("garbage", ["", "ABC", "0000-0000-0000", "ABCD-EFGH-JKMN-P"])
def test_garbage_is_rejected(garbage):
    assert normalise_rma_number(garbage) is None


TAKEN = IntegrityError('duplicate key value violates unique constraint "rma_rma_rma_number_key"')


def attempts_failing(*errors):
    """An attempt that raises each error in turn, then answers how many times it ran."""
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return len(calls)

    return attempt


def test_a_taken_number_runs_the_attempt_again():
    assert retry_if_number_taken(attempts_failing(TAKEN)) == 2


def test_numbers_are_drawn_a_bounded_number_of_times():
    with pytest.raises(IntegrityError):
        retry_if_number_taken(attempts_failing(*[TAKEN] * NUMBER_ATTEMPTS))


def test_other_integrity_errors_are_not_retried():
    other = IntegrityError('duplicate key value violates unique constraint "other"')
    with pytest.raises(IntegrityError) as raised:
        retry_if_number_taken(attempts_failing(other))
    assert raised.value is other
