"""Bounded, strict JSON: what a request may contain so that whatever is accepted can be
stored and read back, by SQLite and pydantic locally and within DynamoDB's limits on AWS.

Two layers (see docs/ARCHITECTURE.md, "Bounded input"):
- `loads_request_body` parses every JSON request body: strict JSON (no NaN or Infinity,
  no number too long or out of float range, no lone surrogate), at most `MAX_BODY_DEPTH`
  levels, and an object at the top.
- `check_metadata` bounds the free-form `metadata` a client stores on a task: bytes,
  depth, keys, string lengths and number ranges.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from faceport.errors import InvalidJson, ValidationFailed

# DynamoDB allows 32 levels of nesting; pydantic's JSON reader stops at about 200. A
# request body is at most this deep, so the task built from it stays readable in both.
MAX_BODY_DEPTH = 32
# A number longer than this is not a number anyone means (Python's own limit is 4300
# digits, and it raises where JSON decoding does not expect it).
MAX_NUMBER_CHARS = 40

# metadata: echoed on every read, list and webhook, so it is kept small.
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 8
MAX_METADATA_KEYS = 256
MAX_METADATA_KEY_CHARS = 256
MAX_METADATA_STRING_CHARS = 4096
# Integers JavaScript clients read exactly.
MAX_METADATA_INT = 2**53 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")


def loads_request_body(text: str | bytes | bytearray) -> dict[str, Any]:
    """Parse a request body as strict, bounded JSON that must be an object (Powertools'
    `json_body_deserializer`).

    Raises `InvalidJson` (400) for what is not strict JSON and `ValidationFailed` (422)
    for valid JSON that is too deep or not an object.
    """
    value = loads_json(text)
    if not isinstance(value, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    return value


def loads_json(text: str | bytes | bytearray, what: str = "The request body") -> Any:
    """Strict JSON, at most `MAX_BODY_DEPTH` levels deep; errors as in `loads_request_body`."""
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except RecursionError as exc:
        raise ValidationFailed(_too_deep(what, MAX_BODY_DEPTH)) from exc
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"{what} is not valid JSON: {exc.msg} at {exc.pos}.") from exc
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"{what} is not valid UTF-8.") from exc
    if depth_of(value) > MAX_BODY_DEPTH:
        raise ValidationFailed(_too_deep(what, MAX_BODY_DEPTH))
    if _has_lone_surrogate(value):
        raise InvalidJson(f"{what} has a lone surrogate (\\ud800-\\udfff) in a string.")
    return value


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """`value` if it is within the metadata limits; ValueError (a 422 from the schema)
    saying which limit otherwise. A pydantic AfterValidator."""
    depth = depth_of(value)
    if depth > MAX_METADATA_DEPTH:
        raise ValueError(f"metadata is {depth} levels deep; at most {MAX_METADATA_DEPTH}")
    keys = 0
    for item, is_key in _leaves_and_keys(value):
        if is_key:
            keys += 1
            if len(item) > MAX_METADATA_KEY_CHARS:
                raise ValueError(f"a metadata key is over {MAX_METADATA_KEY_CHARS} characters")
        elif isinstance(item, str) and len(item) > MAX_METADATA_STRING_CHARS:
            raise ValueError(f"a metadata string is over {MAX_METADATA_STRING_CHARS} characters")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int) and abs(item) > MAX_METADATA_INT:
            raise ValueError(f"a metadata integer is outside +-{MAX_METADATA_INT}")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("metadata numbers must be finite")
        if isinstance(item, str) and _SURROGATE.search(item):
            raise ValueError("metadata has a lone surrogate in a string")
    if keys > MAX_METADATA_KEYS:
        raise ValueError(f"metadata has {keys} keys; at most {MAX_METADATA_KEYS}")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is {size} bytes as JSON; at most {MAX_METADATA_BYTES}")
    return value


def depth_of(value: Any) -> int:
    """Levels of containers in a JSON value: 0 for a scalar, 1 for `{}` or `[1]`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _leaves_and_keys(value: Any) -> list[tuple[Any, bool]]:
    """Every key (True) and scalar (False) of a JSON value, without recursion."""
    found: list[tuple[Any, bool]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found += [(key, True) for key in item]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            found.append((item, False))
    return found


def _has_lone_surrogate(value: Any) -> bool:
    for item, _is_key in _leaves_and_keys(value):
        if isinstance(item, str) and not item.isascii() and _SURROGATE.search(item):
            return True
    return False


def _too_deep(what: str, limit: int) -> str:
    return f"{what} is nested more than {limit} levels deep."


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"The request body has {name}, which is not JSON.")


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidJson(f"A number in the request body is over {MAX_NUMBER_CHARS} characters.")
    number = float(text)
    if not math.isfinite(number):
        raise InvalidJson(f"The number {text} in the request body is out of range.")
    return number


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidJson(f"A number in the request body is over {MAX_NUMBER_CHARS} characters.")
    return int(text)
