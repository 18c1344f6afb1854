import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from faceport.adapters.local.file_blobs import FileBlobStore, load_or_create_secret
from faceport.errors import LinkExpired, NotFound


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs", "http://h:1", load_or_create_secret(tmp_path / "s"))


def _link_parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.removeprefix("/files/"), query["expires"][0], query["sig"][0]


def test_put_get_delete(blobs: FileBlobStore) -> None:
    blobs.put("results/a.png", b"data", "image/png")
    assert blobs.get("results/a.png") == b"data"
    blobs.delete("results/a.png")
    with pytest.raises(NotFound):
        blobs.get("results/a.png")


def test_signed_link_opens_until_it_expires(blobs: FileBlobStore) -> None:
    blobs.put("results/a.png", b"data", "image/png")
    key, expires, sig = _link_parts(blobs.url_for("results/a.png", ttl_s=60))
    assert blobs.open_signed(key, expires, sig) == b"data"
    key, expires, sig = _link_parts(blobs.url_for("results/a.png", ttl_s=-1))
    with pytest.raises(LinkExpired):
        blobs.open_signed(key, expires, sig)


def test_tampered_links_are_refused(blobs: FileBlobStore) -> None:
    blobs.put("results/a.png", b"a", "image/png")
    blobs.put("results/b.png", b"b", "image/png")
    _, expires, sig = _link_parts(blobs.url_for("results/a.png", ttl_s=60))
    with pytest.raises(LinkExpired):
        blobs.open_signed("results/b.png", expires, sig)
    with pytest.raises(LinkExpired):
        blobs.open_signed("results/a.png", str(int(time.time()) + 9999), sig)


@pytest.mark.parametrize("key", ["../secret", "results/../../s", "/etc/passwd", "a//b"])
def test_keys_cannot_escape_the_root(blobs: FileBlobStore, key: str) -> None:
    with pytest.raises(NotFound):
        blobs.get(key)


def test_secret_is_stable_per_data_dir(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "secret")
    assert len(first) == 32
    assert load_or_create_secret(tmp_path / "secret") == first
