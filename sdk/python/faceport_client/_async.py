"""`AsyncClient`: the same API as `Client`, for asyncio."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
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
from faceport_client._errors import FaceportError, WaitTimeout, WebhookVerificationError
from faceport_client._inputs import Input
from faceport_client._models import Account, SigningSecrets, Task, TaskList, WebhookEvent
from faceport_client._webhooks import verify_signature

# A plain function or a coroutine function; called with the task as it moves.
AsyncProgressCallback = Callable[[Task], Awaitable[None] | None]


class AsyncClient:
    """`Client` for asyncio: the same methods, awaited (see `Client` for the rules)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = _base.make_config(base_url, api_key, timeout, max_retries)
        self._http = httpx.AsyncClient(
            base_url=self._config.base_url,
            headers=_base.default_headers(self._config),
            timeout=timeout,
            transport=transport,
        )
        self.tasks = AsyncTasks(self)
        self.webhooks = AsyncWebhooks(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def swap(
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
        on_progress: AsyncProgressCallback | None = None,
        wait_timeout: float = 600.0,
    ) -> Task:
        body = swap_body(
            source,
            target,
            target_index=target_index,
            face_map=face_map,
            output_format=output_format,
            metadata=metadata,
            notify_url=notify_url,
        )
        return await self._submit("/v1/face-swap", body, wait, on_progress, wait_timeout)

    async def fuse(
        self,
        source: Input,
        target: Input,
        *,
        similarity: float = 0.5,
        output_format: OutputFormat = "png",
        metadata: dict[str, Any] | None = None,
        notify_url: str | None = None,
        wait: bool = True,
        on_progress: AsyncProgressCallback | None = None,
        wait_timeout: float = 600.0,
    ) -> Task:
        body = fuse_body(
            source,
            target,
            similarity=similarity,
            output_format=output_format,
            metadata=metadata,
            notify_url=notify_url,
        )
        return await self._submit("/v1/face-fusion", body, wait, on_progress, wait_timeout)

    async def swap_video(
        self,
        source: Input,
        video: Input,
        *,
        target_index: int | Literal["all"] | None = None,
        reference_face: Input | None = None,
        metadata: dict[str, Any] | None = None,
        notify_url: str | None = None,
        wait: bool = True,
        on_progress: AsyncProgressCallback | None = None,
        wait_timeout: float = 3600.0,
    ) -> Task:
        body = swap_video_body(
            source,
            video,
            target_index=target_index,
            reference_face=reference_face,
            metadata=metadata,
            notify_url=notify_url,
        )
        return await self._submit("/v1/video-face-swap", body, wait, on_progress, wait_timeout)

    async def detect(self, image: Input) -> Task:
        headers = _base.submit_headers(prefer_wait=False)
        data = await self._request(
            "POST", "/v1/face-detect", json=detect_body(image), headers=headers, retry_posts=True
        )
        return _base.finished(Task.model_validate(data))

    async def account(self) -> Account:
        return Account.model_validate(await self._request("GET", "/v1/account"))

    async def download(self, task: Task, path: str | Path) -> Path:
        """Save the task's result to `path` (signed link: no API key is sent)."""
        if task.result is None or task.result.url is None:
            raise FaceportError("no_result", f"Task {task.id} has no result to download.")
        target = Path(path)
        async with httpx.AsyncClient(timeout=120) as plain:
            response = await plain.get(task.result.url)
        if not response.is_success:
            _base.parse(response)
        target.write_bytes(response.content)
        return target

    async def _submit(
        self,
        path: str,
        body: dict[str, Any],
        wait: bool,
        on_progress: AsyncProgressCallback | None,
        wait_timeout: float,
    ) -> Task:
        headers = _base.submit_headers(prefer_wait=wait and on_progress is None)
        data = await self._request("POST", path, json=body, headers=headers, retry_posts=True)
        task = Task.model_validate(data)
        if not wait:
            return task
        ended = await self.tasks.wait(task, on_progress=on_progress, timeout=wait_timeout)
        return _base.finished(ended)

    async def _request(
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
                response = await self._http.request(
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
                await asyncio.sleep(delay)


class AsyncTasks:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, task_id: str) -> Task:
        return Task.model_validate(await self._client._request("GET", f"/v1/tasks/{task_id}"))

    async def list(
        self, *, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskList:
        params = {"status": status, "limit": limit, "cursor": cursor}
        data = await self._client._request(
            "GET", "/v1/tasks", params={k: v for k, v in params.items() if v is not None}
        )
        return TaskList.model_validate(data)

    async def cancel(self, task_id: str) -> Task:
        data = await self._client._request("POST", f"/v1/tasks/{task_id}/cancel", retry_posts=False)
        return Task.model_validate(data)

    async def wait(
        self,
        task: Task | str,
        *,
        on_progress: AsyncProgressCallback | None = None,
        timeout: float = 600.0,
    ) -> Task:
        current = await self.get(task) if isinstance(task, str) else task
        started = time.monotonic()
        delay = _base.POLL_FIRST_S
        seen: tuple[str, int] | None = None
        while True:
            if on_progress is not None and (current.status, current.progress) != seen:
                seen = (current.status, current.progress)
                outcome = on_progress(current)
                if outcome is not None:
                    await outcome
            if current.status.is_terminal:
                return current
            if time.monotonic() - started > timeout:
                raise WaitTimeout(current, timeout)
            await asyncio.sleep(delay)
            delay = min(delay * _base.POLL_FACTOR, _base.POLL_MAX_S)
            current = await self.get(current.id)


class AsyncWebhooks:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._secrets: list[str] | None = None

    async def secrets(self) -> SigningSecrets:
        data = await self._client._request("GET", "/v1/webhooks/secret")
        return SigningSecrets.model_validate(data)

    async def verify(
        self, body: bytes | str, headers: Mapping[str, str], *, secret: str | None = None
    ) -> WebhookEvent:
        if secret is not None:
            return verify_signature(body, headers, [secret])
        if self._secrets is not None:
            try:
                return verify_signature(body, headers, self._secrets)
            except WebhookVerificationError:
                pass
        self._secrets = [s.secret for s in (await self.secrets()).secrets]
        return verify_signature(body, headers, self._secrets)
