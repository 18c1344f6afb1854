import pytest
from hypothesis import given
from hypothesis import strategies as st

from faceport.api.prefer import preferred_wait


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("wait=5", 5),
        ("respond-async, wait=10", 10),
        ("WAIT = 3", 3),
        ('wait="7"', 7),
        ("wait=5;foo=bar", 5),
        ("wait=500", 60),
        ("wait=abc", None),
        ("return=minimal", None),
    ],
)
def test_preferred_wait(header: str | None, expected: int | None) -> None:
    assert preferred_wait(header, cap_s=60) == expected


@pytest.mark.parametrize("header", ["wait=²", "wait=٣", "wait=1²", "wait=" + "9" * 5000, "wait=-1"])
def test_malformed_waits_are_ignored(header: str) -> None:
    """Issue 18 (high 3): "²" passed str.isdigit() and then broke int(), after the task
    had been created and charged."""
    assert preferred_wait(header, cap_s=60) is None


@given(st.text(max_size=300))
def test_preferred_wait_never_raises(header: str) -> None:
    wait = preferred_wait(header, cap_s=60)
    assert wait is None or 0 <= wait <= 60
