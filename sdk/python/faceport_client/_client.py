"""`Client`: the faceport API over HTTP, blocking."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from faceport_client import _base, _core
from faceport_client._bodies import (
    OutputFormat,
    TargetIndex,
    fuse_body,
    swap_body,
    swap_video_body,
)
from faceport_client._inputs import Input
from faceport_client._models import Account, SigningSecrets, Task, TaskList, WebhookEvent

T = TypeVar("T")
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
        self._http = httpx.Client(**_base.http_options(self._config), transport=transport)
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
        return self._run(_core.swap(self._config, body, wait, on_progress, wait_timeout))

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
        return self._run(_core.fuse(self._config, body, wait, on_progress, wait_timeout))

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
        return self._run(_core.swap_video(self._config, body, wait, on_progress, wait_timeout))

    def detect(self, image: Input) -> Task:
        """Every face of `image` (`task.faces`: box, score, landmarks, index)."""
        return self._run(_core.detect(self._config, image))

    def account(self) -> Account:
        """Your credits and usage."""
        return self._run(_core.account(self._config))

    def download(self, task: Task, path: str | Path) -> Path:
        """Save the task's result to `path` (same as `task.download(path)`)."""
        return task_download(task, path)

    # -- plumbing --------------------------------------------------------------------

    def _run(self, flow: _core.Flow[T]) -> T:
        """Run `flow` to its end: send its calls, sleep its sleeps, report its progress."""
        reply: Any = None
        while True:
            step = _core.advance(flow, reply)
            reply = None
            if isinstance(step, _core.Done):
                return step.value
            if isinstance(step, _core.Call):
                reply = self._send(step)
            elif isinstance(step, _core.Sleep):
                time.sleep(step.seconds)
            else:
                step.callback(step.task)

    def _send(self, call: _core.Call) -> httpx.Response | httpx.TransportError:
        try:
            return self._http.request(
                call.method, call.path, json=call.json, params=call.params, headers=call.headers
            )
        except httpx.TransportError as exc:
            return exc


class Tasks:
    """`client.tasks`: get, list, cancel and wait for tasks."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, task_id: str) -> Task:
        """The task as it is now."""
        return self._client._run(_core.get_task(self._client._config, task_id))

    def list(
        self, *, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskList:
        """Newest first; pass `next_cursor` as `cursor` for the next page."""
        return self._client._run(_core.list_tasks(self._client._config, status, limit, cursor))

    def cancel(self, task_id: str) -> Task:
        """Cancel a queued or running task (`ConflictError` if it already ended)."""
        return self._client._run(_core.cancel_task(self._client._config, task_id))

    def wait(
        self,
        task: Task | str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float = 600.0,
    ) -> Task:
        """The task once it has ended (whatever its status), polling with backoff."""
        flow = _core.wait_for(self._client._config, task, on_progress, timeout)
        return self._client._run(flow)


class Webhooks:
    """`client.webhooks`: check that a delivery came from your faceport server."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._cache = _core.SecretCache()

    def secrets(self) -> SigningSecrets:
        """The account's signing secrets (`current`, and any still accepted after a rotation)."""
        return self._client._run(_core.signing_secrets(self._client._config))

    def verify(
        self, body: bytes | str, headers: Mapping[str, str], *, secret: str | None = None
    ) -> WebhookEvent:
        """The event if the delivery is genuine and fresh, else `WebhookVerificationError`.
        Without `secret`, the account's signing secrets are fetched (once, and again if a
        delivery does not verify, in case they were rotated)."""
        flow = _core.verify_webhook(self._client._config, body, headers, secret, self._cache)
        return self._client._run(flow)


def task_download(task: Task, path: str | Path) -> Path:
    """Stream the task's result to `path`. The link is signed, so no API key goes with it
    (an S3 presigned link refuses a request that carries a second credential)."""
    url = _core.result_url(task)
    target = Path(path)
    with httpx.stream("GET", url, timeout=120) as response:
        if not response.is_success:
            response.read()
            _base.parse(response)
        with target.open("wb") as handle:
            for chunk in response.iter_bytes():
                handle.write(chunk)
    return target
