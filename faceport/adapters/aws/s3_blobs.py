"""Blobs in S3: inputs in one bucket, results in another, downloads by presigned URL."""

from __future__ import annotations

from pathlib import Path

from faceport.adapters.aws.clients import AwsClients, error_code
from faceport.errors import NotFound

RESULTS_PREFIX = "results/"


class S3BlobStore:
    """BlobStore over two buckets: `results/...` keys live in the results bucket (kept
    longer), every other key in the inputs bucket (expires soon)."""

    def __init__(self, inputs_bucket: str, results_bucket: str, clients: AwsClients) -> None:
        self._inputs = inputs_bucket
        self._results = results_bucket
        self._clients = clients

    def bucket_for(self, key: str) -> str:
        return self._results if key.startswith(RESULTS_PREFIX) else self._inputs

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._clients.s3.put_object(
            Bucket=self.bucket_for(key), Key=key, Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        return read_object(self._clients, self.bucket_for(key), key)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        # boto3's managed transfer: multipart for large files, never the whole file in memory.
        self._clients.s3.upload_file(
            str(path), self.bucket_for(key), key, ExtraArgs={"ContentType": content_type}
        )

    def get_file(self, key: str, path: Path) -> None:
        try:
            self._clients.s3.download_file(self.bucket_for(key), key, str(path))
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                raise NotFound("No such file.") from exc
            raise

    def delete(self, key: str) -> None:
        self._clients.s3.delete_object(Bucket=self.bucket_for(key), Key=key)

    def url_for(self, key: str, ttl_s: int) -> str:
        url: str = self._clients.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket_for(key), "Key": key},
            ExpiresIn=ttl_s,
        )
        return url


def read_object(clients: AwsClients, bucket: str, key: str) -> bytes:
    """The object's bytes; `NotFound` when it does not exist."""
    try:
        reply = clients.s3.get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if error_code(exc) in ("NoSuchKey", "404"):
            raise NotFound("No such file.") from exc
        raise
    data: bytes = reply["Body"].read()
    return data


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/key` -> ("bucket", "some/key")."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key
