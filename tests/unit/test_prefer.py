import pytest

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
