"""The provider settings, the MP4 label, the error mapping and the routing function, on
their own (the flows are in tests/integration/test_providers.py)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from pydantic import ValidationError

from faceport.backends import InProcessBackend
from faceport.errors import ProviderRefused
from faceport.provenance import TRAINED_ALGORITHMIC_MEDIA, label_mp4, mp4_digital_source_type
from faceport.providers import auth_headers, provider_backends
from faceport.providers.base import Circuit, error_from_provider
from faceport.settings import Settings
from faceport.workflow import candidates
from tests.support.fakes import FakeEngine

HEYGEN = '{"hg": {"kind": "heygen", "base_url": "https://api.example.com/x", "api_key": "sk-9z"}}'


def test_the_settings_are_read_from_json_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEPORT_PROVIDERS", HEYGEN)
    monkeypatch.setenv("FACEPORT_ROUTES", '{"video_face_swap": ["hg", "engine"]}')
    settings = Settings()
    assert settings.providers["hg"].kind == "heygen"
    assert settings.providers["hg"].poll_interval_s is None  # the page's 10 s applies
    assert settings.routes == {"video_face_swap": ["hg", "engine"]}
    assert "sk-9z" not in repr(settings.providers["hg"])  # keys stay out of logs


@pytest.mark.parametrize(
    "providers, routes",
    [
        (HEYGEN, '{"video_face_swap": ["nobody"]}'),  # an unknown backend
        (HEYGEN, '{"video_face_swap": []}'),
        (HEYGEN, '{"face_morph": ["hg"]}'),  # an unknown operation
        ('{"engine": {"kind": "heygen", "base_url": "https://a.example"}}', "{}"),
        ('{"x": {"kind": "runway", "base_url": "https://a.example"}}', "{}"),
        ('{"x": {"kind": "heygen", "base_url": "ftp://a.example"}}', "{}"),
        (
            '{"x": {"kind": "heygen", "base_url": "https://a.example", "api_key": "k",'
            ' "api_key_secret": "s"}}',
            "{}",
        ),  # a key and a secret name
    ],
)
def test_bad_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, providers: str, routes: str
) -> None:
    monkeypatch.setenv("FACEPORT_PROVIDERS", providers)
    monkeypatch.setenv("FACEPORT_ROUTES", routes)
    with pytest.raises(ValidationError):
        Settings()


def test_routes_order_the_able_backends_and_default_to_the_engine() -> None:
    settings = Settings.model_validate(
        {
            "providers": {
                "hg": {"kind": "heygen", "base_url": "https://h.example"},
                "aio": {"kind": "apiinone", "base_url": "https://a.example"},
            },
            "routes": {"face_swap": ["hg", "aio", "engine"], "video_face_swap": ["hg"]},
        }
    )
    backends = (InProcessBackend(FakeEngine()), *provider_backends(settings, fetcher=None))  # type: ignore[arg-type]
    names = lambda op: [b.name for b in candidates(backends, op, settings.routes)]  # noqa: E731
    assert names("face_swap") == ["aio", "engine"]  # HeyGen does no image swaps
    assert names("video_face_swap") == ["hg"]
    assert names("face_detect") == ["engine"]  # not routed: as without the settings


def test_each_kind_sends_its_key_the_way_its_page_says() -> None:
    assert auth_headers("apiinone", "k") == {"Authorization": "Bearer k"}
    assert auth_headers("heygen", "k") == {"X-Api-Key": "k"}
    assert auth_headers("ailabtools", "k") == {"ailabapi-api-key": "k"}
    assert auth_headers("zhiqite", "id:secret") == {
        "X-Request-req-accessKeyId": "id",
        "X-Request-req-accessKeySecret": "secret",
    }


@pytest.mark.parametrize(
    "message, code, expected",
    [
        ("No face detected in the file.", "ERROR_NO_FACE_IN_FILE", "no_face_in_target"),
        ("no face in the source image", None, "no_face_in_source"),
        ("Invalid image format", None, "unsupported_media"),
        ("the face was too small", "target_index_out_of_range", "target_index_out_of_range"),
        ("GPU exploded", "oops", "provider_failed"),
    ],
)
def test_provider_errors_map_to_faceport_codes(
    message: str, code: str | None, expected: str
) -> None:
    assert error_from_provider(message, code).code == expected


def test_the_circuit_opens_after_refusals_and_closes_on_success() -> None:
    circuit = Circuit(threshold=2, open_s=60)
    circuit.record(refused=True)
    circuit.check()
    circuit.record(refused=True)
    with pytest.raises(ProviderRefused):
        circuit.check()
    circuit.record(refused=False)
    circuit.check()


def _box(kind: bytes, payload: bytes, size: int | None = None) -> bytes:
    return struct.pack(">I4s", 8 + len(payload) if size is None else size, kind) + payload


def test_an_mp4_gets_its_label_once_and_keeps_every_box(tmp_path: Path) -> None:
    original = _box(b"ftyp", b"isom\x00\x00\x02\x00") + _box(b"moov", b"m" * 20)
    original += _box(b"mdat", b"frames", size=0)  # "runs to the end of the file"
    path = tmp_path / "v.mp4"
    path.write_bytes(original)
    assert mp4_digital_source_type(original) is None
    assert label_mp4(path)
    labelled = path.read_bytes()
    assert mp4_digital_source_type(labelled) == TRAINED_ALGORITHMIC_MEDIA
    mdat = original.index(b"mdat") - 4
    assert struct.unpack(">I", labelled[mdat : mdat + 4])[0] == len(original) - mdat
    assert labelled[:mdat] == original[:mdat]
    assert not label_mp4(path)  # already labelled: unchanged
    assert path.read_bytes() == labelled
    path.write_bytes(b"not a video")
    with pytest.raises(ValueError):
        label_mp4(path)
