"""Key format, header styles, prices and request fingerprints (pure functions)."""

from __future__ import annotations

import pytest

from faceport.accounts import hash_key, key_id_of, key_matches, new_api_key, presented_key
from faceport.api.native.schemas import FaceSwapRequest
from faceport.billing import fingerprint, price_of
from faceport.errors import InvalidApiKey, MissingApiKey
from faceport.settings import Settings


def test_keys_are_long_random_prefixed_and_stored_as_hashes() -> None:
    keys = [new_api_key("acct_x") for _ in range(50)]
    tokens = {k.token for k in keys}
    assert len(tokens) == 50
    for key in keys:
        assert key.token.startswith("fpk_") and len(key.token) == 61
        assert key_id_of(key.token) == key.key_id and key.token.startswith(key.key_id + "_")
        assert key.secret not in repr(key)
        stored = hash_key(key.token)
        assert key.secret not in stored and key_matches(key.token, stored)
        other_last = "1" if key.token.endswith("0") else "0"
        assert not key_matches(key.token[:-1] + other_last, stored)


@pytest.mark.parametrize(
    "text", ["", "fpk_", "fpk_short_" + "A" * 40, "fpk_" + "a" * 16 + "_" + "A" * 39, "sk-123"]
)
def test_malformed_keys_have_no_id(text: str) -> None:
    assert key_id_of(text) is None


KEY = "fpk_abcdefgh12345678_" + "S" * 40


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {KEY}"},
        {"AUTHORIZATION": f"BEARER   {KEY} "},
        {"X-Api-Key": KEY},
        {"x-api-key": KEY},
        {"ailabapi-api-key": KEY},
        {"mj-api-secret": KEY},
        {"X-Request-req-accessKeyId": KEY[:20], "X-Request-req-accessKeySecret": KEY[21:]},
        {"X-Request-req-accessKeyId": KEY[:20], "X-Request-req-accessKeySecret": KEY},
        {"Authorization": "Basic abc", "X-Api-Key": KEY},
        {"Authorization": KEY},  # MJ-proxy's bare token
        {"Authorization": "Bearer midjourney-proxy", "mj-api-secret": KEY},
    ],
)
def test_every_header_style_presents_the_same_key(headers: dict[str, str]) -> None:
    assert presented_key(headers) == KEY


def test_no_key_and_half_pairs() -> None:
    with pytest.raises(MissingApiKey):
        presented_key({"Content-Type": "application/json"})
    with pytest.raises(MissingApiKey):
        presented_key(None)
    with pytest.raises(InvalidApiKey):
        presented_key({"X-Request-req-accessKeySecret": KEY})
    with pytest.raises(InvalidApiKey):  # the secret belongs to another key id
        presented_key(
            {
                "X-Request-req-accessKeyId": "fpk_0000000000000000",
                "x-request-req-accesskeysecret": KEY,
            }
        )


def test_prices_come_from_settings() -> None:
    settings = Settings(price_face_swap=4, price_face_fusion=5, price_face_detect=1)
    assert [price_of(settings, op) for op in ("face_swap", "face_fusion", "face_detect")] == [
        4,
        5,
        1,
    ]
    with pytest.raises(KeyError):
        price_of(settings, "time_travel")


@pytest.mark.parametrize(
    ("seconds", "credits"),
    [(0.5, 10), (4.0, 10), (5.0, 10), (5.01, 12), (30, 60), (None, 600)],
)
def test_video_costs_per_started_second_with_a_minimum(seconds: float | None, credits: int) -> None:
    settings = Settings(price_video_per_second=2, price_video_minimum=10, price_video_hold_s=300)
    assert price_of(settings, "video_face_swap", video_seconds=seconds) == credits


def test_fingerprints_ignore_key_order_and_see_every_change() -> None:
    body = {"source": {"url": "https://a/x.jpg"}, "target": {"url": "https://a/y.jpg"}}
    request = FaceSwapRequest.model_validate(body)
    reordered = FaceSwapRequest.model_validate(dict(reversed(body.items())))
    assert fingerprint("face_swap", request) == fingerprint("face_swap", reordered)
    changed = FaceSwapRequest.model_validate(body | {"target_index": 1})
    assert fingerprint("face_swap", request) != fingerprint("face_swap", changed)
    assert fingerprint("face_swap", request) != fingerprint("face_fusion", request)
