"""Strict, bounded JSON: what passes can always be stored and read back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceport import bounds
from faceport.errors import FaceportError, InvalidJson, ValidationFailed
from faceport.tasks import Task, TaskParams, utcnow

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=40,
)


def task_with(metadata: dict[str, Any]) -> Task:
    return Task(
        id="task_000000000000",
        account_id="acct_a",
        operation="face_swap",
        params=TaskParams(),
        inputs={},
        metadata=metadata,
        created_at=utcnow(),
    )


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_accepted_metadata_round_trips_through_a_stored_task(value: Any) -> None:
    metadata = {"v": value}
    try:
        bounds.check_metadata(metadata)
    except ValueError:
        return
    stored = task_with(metadata).model_dump_json()
    assert Task.model_validate_json(stored).metadata == metadata


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v)))
def test_the_body_parser_answers_only_with_our_errors(text: str) -> None:
    try:
        value = bounds.loads_request_body(text)
    except FaceportError as error:
        assert error.status in (400, 422)
        return
    assert isinstance(value, dict)
    assert bounds.depth_of(value) <= bounds.MAX_BODY_DEPTH


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[" * 100_000, ValidationFailed),
        ("[" * 33 + "]" * 33, ValidationFailed),
        ('{"a": NaN}', InvalidJson),
        ('{"a": Infinity}', InvalidJson),
        ('{"a": 1e309}', InvalidJson),
        ('{"a": ' + "1" * 5000 + "}", InvalidJson),
        ('{"a": "\\ud800"}', InvalidJson),
        ('{"\\udc00": 1}', InvalidJson),
        (b'{"a": "\xff"}', InvalidJson),
        ("[1]", ValidationFailed),
        ("null", ValidationFailed),
    ],
)
def test_refused_bodies(text: str | bytes, error: type[FaceportError]) -> None:
    with pytest.raises(error):
        bounds.loads_request_body(text)


def test_a_body_at_the_depth_limit_is_accepted() -> None:
    text = '{"a":' * (bounds.MAX_BODY_DEPTH - 1) + "{}" + "}" * (bounds.MAX_BODY_DEPTH - 1)
    assert bounds.depth_of(bounds.loads_request_body(text)) == bounds.MAX_BODY_DEPTH


@pytest.mark.parametrize(
    "metadata",
    [
        {"a": float("nan")},
        {"a": float("inf")},
        {"a": 2**53},
        {"a": "\ud800"},
        {"\udfff": 1},
        {"a": "x" * (bounds.MAX_METADATA_STRING_CHARS + 1)},
        {"a": [{"b": [{"c": [{"d": [{"e": 1}]}]}]}]},
    ],
)
def test_refused_metadata(metadata: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        bounds.check_metadata(metadata)
