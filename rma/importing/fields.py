"""Value readers for the import format: each checks one JSON value and returns it typed.

A reader takes `(value, where, problems)`, records what is wrong under the path `where`
(e.g. `orders[0].lines[1].quantity`) and returns the typed value, or None when invalid.
`simple()` turns a plain `value -> typed value` parser that raises `Invalid` into a reader.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

# PositiveIntegerField is a 32-bit signed integer on PostgreSQL.
MAX_INTEGER = 2**31 - 1
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999
# Never wanted in names, addresses or codes; NUL cannot even be stored by PostgreSQL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
# Every text of the format is one line: names, titles, codes and addresses go into email
# subjects and headers, where a line break makes every email of the store fail to send.
LINE_BREAKS = re.compile(r"[\n\r\x85\u2028\u2029]")
# A lone surrogate (JSON "\ud800") is not text: no database or email can encode it.
SURROGATES = re.compile(r"[\ud800-\udfff]")


class Invalid(Exception):
    """One value is wrong; the message says how, without the path."""


class Problems:
    """Every error of one document, each prefixed by where it is."""

    def __init__(self):
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        message = f"{where}: {message}" if where else message
        # A message quoting a key or value with a lone surrogate must still print and encode.
        self.messages.append(message.encode("utf-8", "backslashreplace").decode("utf-8"))

    def __bool__(self) -> bool:
        return bool(self.messages)


Reader = Callable[[object, str, Problems], object]


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where and key else where or key


def one_line(value: str) -> None:
    """Refuse a text that is not valid Unicode or that spans several lines."""
    if match := SURROGATES.search(value):
        raise Invalid(
            f"is not valid Unicode text: it contains a lone surrogate (\\u{ord(match[0]):04x})"
        )
    if LINE_BREAKS.search(value):
        raise Invalid("must be a single line, without line breaks")


def simple(parse: Callable[[object], object]) -> Reader:
    """A reader from a parser; every string is checked by `one_line` first."""

    def read(value, where: str, problems: Problems):
        try:
            if isinstance(value, str):
                one_line(value)
            return parse(value)
        except Invalid as error:
            problems.add(where, str(error))
            return None

    return read


@dataclass(frozen=True)
class Field:
    read: Reader
    required: bool = False
    # Used when the key is absent or null; only immutable values.
    default: object = None


def read_object(value, spec: dict[str, Field], where: str, problems: Problems) -> dict | None:
    """Check an object against `spec`: no unknown keys, required keys present, each value read."""
    if not isinstance(value, dict):
        problems.add(where, f"must be an object, not {type_name(value)}")
        return None
    for key in value:
        if key not in spec:
            problems.add(where, f'unknown key "{key}"')
    result = {}
    for key, field in spec.items():
        item = value.get(key)
        if item is None:
            if field.required:
                problems.add(where, f'missing required key "{key}"')
            result[key] = field.default
        else:
            result[key] = field.read(item, join(where, key), problems)
    return result


def list_of(read_item: Reader, *, non_empty: bool = False, unique: bool = False) -> Reader:
    def read(value, where: str, problems: Problems):
        if not isinstance(value, list):
            problems.add(where, f"must be a list, not {type_name(value)}")
            return None
        if non_empty and not value:
            problems.add(where, "must not be empty")
        items = [read_item(item, f"{where}[{index}]", problems) for index, item in enumerate(value)]
        if unique:
            counts = Counter(item for item in items if item is not None)
            for duplicate in sorted(item for item, count in counts.items() if count > 1):
                problems.add(where, f'"{duplicate}" is listed more than once')
        return items

    return read


def object_of(spec: dict[str, Field]) -> Reader:
    def read(value, where: str, problems: Problems):
        return read_object(value, spec, where, problems)

    return read


def type_name(value) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), "a number"
    )


def text(
    max_length: int, *, blank: bool = True, pattern: str = "", pattern_hint: str = ""
) -> Reader:
    compiled = re.compile(pattern) if pattern else None

    def parse(value):
        if not isinstance(value, str):
            raise Invalid(f"must be a string, not {type_name(value)}")
        if not blank and not value.strip():
            raise Invalid("must not be empty")
        if len(value) > max_length:
            raise Invalid(f"must be at most {max_length} characters")
        if CONTROL_CHARACTERS.search(value):
            raise Invalid("must not contain control characters")
        if compiled and not compiled.fullmatch(value):
            raise Invalid(f'"{value}" is not valid: {pattern_hint}')
        return value

    return simple(parse)


def upper_code(length: int, what: str) -> Reader:
    """A code of `length` letters (ISO country or currency), stored in capitals."""

    def parse(value):
        if not isinstance(value, str) or not re.fullmatch(rf"[A-Za-z]{{{length}}}", value):
            raise Invalid(f"must be a {what} of {length} letters, not {value!r}")
        return value.upper()

    return simple(parse)


def choice(values) -> Reader:
    allowed = tuple(values)

    def parse(value):
        if value not in allowed:
            raise Invalid(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return simple(parse)


def integer(*, minimum: int, maximum: int = MAX_INTEGER) -> Reader:
    def parse(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be a whole number, not {value!r}")
        if value < minimum:
            raise Invalid(f"must be at least {minimum} (got {value})")
        if value > maximum:
            raise Invalid(f"must be at most {maximum} (got {value})")
        return value

    return simple(parse)


def decimal(
    *,
    minimum: Decimal = Decimal(0),
    maximum: Decimal | None = None,
    positive: bool = False,
    decimal_places: int = 6,
    max_digits: int = 18,
) -> Reader:
    """A decimal given as a string or a JSON number, read exactly (never through float)."""
    step = Decimal(1).scaleb(-decimal_places)
    limit = Decimal(10) ** (max_digits - decimal_places)

    def parse(value):
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise Invalid(f"must be a decimal number, as a string or a number, not {value!r}")
        try:
            # str() of a float is its shortest exact spelling, so 39.99 stays 39.99.
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise Invalid(f"must be a decimal number, not {value!r}") from None
        if not number.is_finite():
            raise Invalid(f"must be a finite number, not {value!r}")
        if number < minimum or (positive and number == 0):
            raise Invalid(f"must be {'above' if positive else 'at least'} {minimum} (got {value})")
        if (maximum is not None and number > maximum) or abs(number) >= limit:
            raise Invalid(f"is too large (got {value})")
        if number != number.quantize(step):
            raise Invalid(f"must have at most {decimal_places} decimal places (got {value})")
        return number

    return simple(parse)


def _boolean(value):
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {value!r}")
    return value


def _timestamp(value):
    if not isinstance(value, str):
        raise Invalid(f"must be an ISO 8601 timestamp string, not {type_name(value)}")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f'"{value}" is not an ISO 8601 timestamp') from None
    if moment.utcoffset() is None:
        raise Invalid(f'timestamp "{value}" has no UTC offset (end it with Z or +hh:mm)')
    # Far-off years would overflow date arithmetic (UTC conversion, return windows).
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Invalid(f'timestamp "{value}" is not between {EARLIEST_YEAR} and {LATEST_YEAR}')
    return moment


def _validated(validator, what: str, *, max_length: int, check=None) -> Reader:
    """A string of at most `max_length` characters accepted by a Django validator."""

    def parse(value):
        if not isinstance(value, str):
            raise Invalid(f"must be {what}, not {type_name(value)}")
        if len(value) > max_length:
            raise Invalid(f"must be at most {max_length} characters")
        try:
            validator(value)
        except ValidationError:
            raise Invalid(f'"{value}" is not {what}') from None
        if check:
            check(value)
        return value

    return simple(parse)


def _without_credentials(value: str) -> None:
    # A URL's origin goes into the page's Content-Security-Policy; its user name and
    # password part may hold ";" or "," (which end a directive or a policy there), and
    # has no place in a public image link anyway.
    if "@" in urlsplit(value).netloc:
        raise Invalid(f'"{value}" must not contain a user name or password')


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone(value):
    if not isinstance(value, str) or value not in _timezones():
        raise Invalid(f"{value!r} is not an IANA time zone such as America/New_York")
    return value


boolean = simple(_boolean)
timestamp = simple(_timestamp)
# The lengths of Django's EmailField and URLField, which the models use.
email = _validated(validate_email, "a valid email address", max_length=254)
url = _validated(
    URLValidator(schemes=["http", "https"]),
    "a valid http(s) URL",
    max_length=200,
    check=_without_credentials,
)
timezone_name = simple(_timezone)

# A file on this site: an absolute path, never "//host" (another site).
SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9/._~%+-]{0,199}")


def _site_path(value):
    if not isinstance(value, str) or not SITE_PATH.fullmatch(value):
        raise Invalid(
            f'"{value}" is not a valid path on this site (letters, digits and / . _ ~ % + -, '
            "at most 200 characters)"
        )
    return value


site_path = simple(_site_path)


def url_or_site_path(value, where: str, problems: Problems):
    """An http(s) URL, or a path on this site such as the demo's logos under /static/."""
    if isinstance(value, str) and value.startswith("/"):
        return site_path(value, where, problems)
    return url(value, where, problems)
