"""Blobs as files under the data directory, downloadable through HMAC-signed URLs."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

from faceport.errors import LinkExpired, NotFound

_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
FILES_PREFIX = "/files/"


class FileBlobStore:
    """BlobStore on a directory; `url_for` links are served by the local HTTP server."""

    def __init__(self, root: Path, base_url: str, secret: bytes) -> None:
        self._root = root
        self._base_url = base_url
        self._secret = secret

    def _path(self, key: str) -> Path:
        # Keys come from our own code, but a link's key comes from a client: no '..' ever.
        if not _KEY.match(key) or ".." in key.split("/"):
            raise NotFound("No such file.")
        return self._root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers never see half a file

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        os.replace(partial, target)

    def get_file(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except FileNotFoundError as exc:
            raise NotFound("No such file.") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("No such file.") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url_for(self, key: str, ttl_s: int) -> str:
        expires = int(time.time()) + ttl_s
        query = urlencode({"expires": expires, "sig": self._sign(key, expires)})
        return f"{self._base_url}{FILES_PREFIX}{key}?{query}"

    def open_signed(self, key: str, expires: str, sig: str) -> bytes:
        """The blob behind a link made by `url_for`, if the link is genuine and unexpired."""
        try:
            expires_at = int(expires)
        except ValueError as exc:
            raise LinkExpired() from exc
        # Bytes: compare_digest refuses a str with non-ASCII characters (a forged link's).
        genuine = hmac.compare_digest(sig.encode(), self._sign(key, expires_at).encode())
        if not genuine or expires_at < time.time():
            raise LinkExpired()
        return self.get(key)

    def _sign(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def load_or_create_secret(path: Path) -> bytes:
    """The local signing secret, made once per data directory and kept across restarts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(os.urandom(32))
    return path.read_bytes()
