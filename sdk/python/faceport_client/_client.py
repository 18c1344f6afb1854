"""`Client`: the faceport API over HTTP, blocking."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx

from faceport_client import _base
from faceport_client._bodies import (
    OutputFormat,
    TargetIndex,
    detect_body,
    fuse_body,
    swap_body,
    swap_video_body,
)
from faceport_client._errors import WaitTimeout
from faceport_client._inputs import Input
from faceport_client._models import Account, SigningSecrets, Task, TaskList, WebhookEvent
from faceport_client._webhooks import verify_signature

ProgressCallback = Callable[[Task], None]


class Client:
    """The faceport API. `base_url` and `api_key` default to `FACEPORT_API_URL` and
    `FACEPORT_API_KEY`.

    Every submit (`swap`, `fuse`, `swap_video`) carries a fresh `Idempotency-Key`, reused
    when a transient failure (a dropped connection, 429, 5xx) is retried, so a retry never
    makes or charges a second task. With `wait=True` (the default) the call returns the
    finished task, raising `TaskFailedError` / `TaskCanceledError` if it did not succeed;
    `on_progress` is called with the task each time its status or progress moves.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._config = _base.make_config(base_url, api_key, timeout, max_retries)
        self._http = httpx.Client(
            base_url=self._config.base_url,
            headers=_base.default_headers(self._config),
            timeout=timeout,
            transport=transport,
        )
        self.tasks = Tasks(self)
        self.webhooks = Webhooks(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- operations ------------------------------------------------------------------

    def swap(
        self,
        source: Input,
        target: Input,
        *,
        target_index: TargetIndex = 0,
        face_map: Sequence[tuple[int, int]] | None = None,
        output_format: OutputFormat = "png",
        metadata: dict[str, Any] | None = None,
        notify_url: str | None = None,
        wait: bool = True,
        on_progress: ProgressCallback | None = None,
        wait_timeout: float = 600.0,
    ) -> Task:
        """Put the face of `source` onto `target`'s face(s) (`target_index`: 0 = largest,
        a list, or "all"; or `face_map` pairs)."""
        body = swap_body(
            source,
            target,
            target_index=target_index,
            face_map=face_map,
            output_format=output_format,
            metadata=metadata,
            notify_url=notify_url,
        )
        return self._submit("/v1/face-swap", body, wait, on_progress, wait_timeout)

    def fuse(
        self,
        source: Input,
        target: Input,
        *,
        similarity: float = 0.5,
        output_format: OutputFormat = "png",
        metadata: dict[str, Any] | None = None,
        notify_url: str | None = None,
        wait: bool = True,
        on_progress: ProgressCallback | None = None,
        wait_timeout: float = 600.0,
    ) -> Task:
        """Blend the donor's face (`source`) into the template (`target`) by `similarity`
        (0: template unchanged, 1: the donor's face)."""
        body = fuse_body(
            source,
            target,
            similarity=similarity,
            output_format=output_format,
            metadata=metadata,
            notify_url=notify_url,
        )
        return self._submit("/v1/face-fusion", body, wait, on_progress, wait_timeout)

    def swap_video(
        self,
        source: Input,
        video: Input,
        *,
        target_index: int | Literal["all"] | None = None,
        reference_face: Input | None = None,
        metadata: dict[str, Any] | None = None,
        notify_url: str | None = None,
        wait: bool = True,
        on_progress: ProgressCallback | None = None,
        wait_timeout: float = 3600.0,
    ) -> Task:
        """Swap the face of `source` into `video` (result: an H.264 MP4, audio kept)."""
        body = swap_video_body(
            source,
            video,
            target_index=target_index,
            reference_face=reference_face,
            metadata=metadata,
            notify_url=notify_url,
        )
        return self._submit("/v1/video-face-swap", body, wait, on_progress, wait_timeout)

    def detect(self, image: Input) -> Task:
        """Every face of `image` (`task.faces`: box, score, landmarks, index)."""
        headers = _base.submit_headers(prefer_wait=False)
        data = self._request(
            "POST", "/v1/face-detect", json=detect_body(image), headers=headers, retry_posts=True
        )
        return _base.finished(Task.model_validate(data))

    def account(self) -> Account:
        """Your credits and usage."""
        return Account.model_validate(self._request("GET", "/v1/account"))

    def download(self, task: Task, path: str | Path) -> Path:
        """Save the task's result to `path` (same as `task.download(path)`)."""
        return task_download(task, path)

    # -- plumbing --------------------------------------------------------------------

    def _submit(
        self,
        path: str,
        body: dict[str, Any],
        wait: bool,
        on_progress: ProgressCallback | None,
        wait_timeout: float,
    ) -> Task:
        headers = _base.submit_headers(prefer_wait=wait and on_progress is None)
        task = Task.model_validate(
            self._request("POST", path, json=body, headers=headers, retry_posts=True)
        )
        if not wait:
            return task
        return _base.finished(self.tasks.wait(task, on_progress=on_progress, timeout=wait_timeout))

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_posts: bool | None = None,
    ) -> Any:
        safe = method == "GET" if retry_posts is None else retry_posts
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method, path, json=json, params=params, headers=headers
                )
                return _base.parse(response)
            except Exception as exc:
                delay = _base.retry_delay(attempt, exc, retry_posts=safe)
                if delay is None or attempt >= self._config.max_retries:
                    if isinstance(exc, httpx.TransportError):
                        raise _base.connection_failed(exc, self._config.base_url) from exc
                    raise
                attempt += 1
                time.sleep(delay)


class Tasks:
    """`client.tasks`: get, list, cancel and wait for tasks."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, task_id: str) -> Task:
        return Task.model_validate(self._client._request("GET", f"/v1/tasks/{task_id}"))

    def list(
        self, *, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskList:
        """Newest first; pass `next_cursor` as `cursor` for the next page."""
        params = {"status": status, "limit": limit, "cursor": cursor}
        data = self._client._request(
            "GET", "/v1/tasks", params={k: v for k, v in params.items() if v is not None}
        )
        return TaskList.model_validate(data)

    def cancel(self, task_id: str) -> Task:
        """Cancel a queued or running task (`ConflictError` if it already ended)."""
        data = self._client._request("POST", f"/v1/tasks/{task_id}/cancel", retry_posts=False)
        return Task.model_validate(data)

    def wait(
        self,
        task: Task | str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float = 600.0,
    ) -> Task:
        """The task once it has ended (whatever its status), polling with backoff."""
        current = self.get(task) if isinstance(task, str) else task
        started = time.monotonic()
        delay = _base.POLL_FIRST_S
        seen: tuple[str, int] | None = None
        while True:
            if on_progress is not None and (current.status, current.progress) != seen:
                seen = (current.status, current.progress)
                on_progress(current)
            if current.status.is_terminal:
                return current
            if time.monotonic() - started > timeout:
                raise WaitTimeout(current, timeout)
            time.sleep(delay)
            delay = min(delay * _base.POLL_FACTOR, _base.POLL_MAX_S)
            current = self.get(current.id)


class Webhooks:
    """`client.webhooks`: check that a delivery came from your faceport server."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._secrets: list[str] | None = None

    def secrets(self) -> SigningSecrets:
        return SigningSecrets.model_validate(self._client._request("GET", "/v1/webhooks/secret"))

    def verify(
        self, body: bytes | str, headers: Mapping[str, str], *, secret: str | None = None
    ) -> WebhookEvent:
        """The event if the delivery is genuine and fresh, else `WebhookVerificationError`.
        Without `secret`, the account's signing secrets are fetched (once, and again if a
        delivery does not verify, in case they were rotated)."""
        if secret is not None:
            return verify_signature(body, headers, [secret])
        from faceport_client._errors import WebhookVerificationError

        if self._secrets is not None:
            try:
                return verify_signature(body, headers, self._secrets)
            except WebhookVerificationError:
                pass
        self._secrets = [s.secret for s in self.secrets().secrets]
        return verify_signature(body, headers, self._secrets)


def task_download(task: Task, path: str | Path) -> Path:
    """Stream the task's result to `path`. The link is signed, so no API key goes with it
    (an S3 presigned link refuses a request that carries a second credential)."""
    from faceport_client._errors import FaceportError

    if task.result is None or task.result.url is None:
        raise FaceportError("no_result", f"Task {task.id} has no result to download.")
    target = Path(path)
    with httpx.stream("GET", task.result.url, timeout=120) as response:
        if not response.is_success:
            response.read()
            _base.parse(response)
        with target.open("wb") as handle:
            for chunk in response.iter_bytes():
                handle.write(chunk)
    return target
