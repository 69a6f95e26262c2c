"""The JSON format of the RMA service API: strict parsing and compact rendering."""

from __future__ import annotations

import json

from .faults import invalid_request

CONTENT_TYPE = "application/json"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def decode(body: bytes) -> dict:
    """The request object; RMA 1001 for anything but one JSON object in UTF-8.

    NaN/Infinity, invalid UTF-8, numbers too long to convert and nesting too deep for
    the decoder are all refused as invalid JSON rather than failing the request.
    """
    if not body.strip():
        raise invalid_request("The request body is empty; a JSON object is required.")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise invalid_request(f"Invalid JSON: {error}") from None
    if not isinstance(data, dict):
        raise invalid_request("The request body must be a JSON object.")
    return data


def encode(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
