"""`AsyncClient`: the same API as `Client`, for asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

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
        self._http = httpx.AsyncClient(**_base.http_options(self._config), transport=transport)
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
        """Put the face of `source` onto `target`'s face(s) (as `Client.swap`)."""
        body = swap_body(
            source,
            target,
            target_index=target_index,
            face_map=face_map,
            output_format=output_format,
            metadata=metadata,
            notify_url=notify_url,
        )
        flow = _core.swap(self._config, body, wait, on_progress, wait_timeout)
        return await self._run(flow)

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
        """Blend the donor's face (`source`) into the template (`target`) (as `Client.fuse`)."""
        body = fuse_body(
            source,
            target,
            similarity=similarity,
            output_format=output_format,
            metadata=metadata,
            notify_url=notify_url,
        )
        flow = _core.fuse(self._config, body, wait, on_progress, wait_timeout)
        return await self._run(flow)

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
        """Swap the face of `source` into `video` (as `Client.swap_video`)."""
        body = swap_video_body(
            source,
            video,
            target_index=target_index,
            reference_face=reference_face,
            metadata=metadata,
            notify_url=notify_url,
        )
        flow = _core.swap_video(self._config, body, wait, on_progress, wait_timeout)
        return await self._run(flow)

    async def detect(self, image: Input) -> Task:
        """Every face of `image` (`task.faces`: box, score, landmarks, index)."""
        return await self._run(_core.detect(self._config, image))

    async def account(self) -> Account:
        """Your credits and usage."""
        return await self._run(_core.account(self._config))

    async def download(self, task: Task, path: str | Path) -> Path:
        """Save the task's result to `path` (signed link: no API key is sent)."""
        url = _core.result_url(task)
        target = Path(path)
        async with httpx.AsyncClient(timeout=120) as plain:
            response = await plain.get(url)
        if not response.is_success:
            _base.parse(response)
        target.write_bytes(response.content)
        return target

    async def _run(self, flow: _core.Flow[T]) -> T:
        """Run `flow` to its end: send its calls, sleep its sleeps, report its progress."""
        reply: Any = None
        while True:
            step = _core.advance(flow, reply)
            reply = None
            if isinstance(step, _core.Done):
                return step.value
            if isinstance(step, _core.Call):
                reply = await self._send(step)
            elif isinstance(step, _core.Sleep):
                await asyncio.sleep(step.seconds)
            else:
                outcome = step.callback(step.task)
                if outcome is not None:
                    await cast(Awaitable[None], outcome)

    async def _send(self, call: _core.Call) -> httpx.Response | httpx.TransportError:
        try:
            return await self._http.request(
                call.method, call.path, json=call.json, params=call.params, headers=call.headers
            )
        except httpx.TransportError as exc:
            return exc


class AsyncTasks:
    """`client.tasks`: get, list, cancel and wait for tasks (awaited)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, task_id: str) -> Task:
        """The task as it is now."""
        return await self._client._run(_core.get_task(self._client._config, task_id))

    async def list(
        self, *, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskList:
        """Newest first; pass `next_cursor` as `cursor` for the next page."""
        flow = _core.list_tasks(self._client._config, status, limit, cursor)
        return await self._client._run(flow)

    async def cancel(self, task_id: str) -> Task:
        """Cancel a queued or running task (`ConflictError` if it already ended)."""
        return await self._client._run(_core.cancel_task(self._client._config, task_id))

    async def wait(
        self,
        task: Task | str,
        *,
        on_progress: AsyncProgressCallback | None = None,
        timeout: float = 600.0,
    ) -> Task:
        """The task once it has ended (whatever its status), polling with backoff."""
        flow = _core.wait_for(self._client._config, task, on_progress, timeout)
        return await self._client._run(flow)


class AsyncWebhooks:
    """`client.webhooks`: check that a delivery came from your faceport server (awaited)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._cache = _core.SecretCache()

    async def secrets(self) -> SigningSecrets:
        """The account's signing secrets (`current`, and any still accepted after a rotation)."""
        return await self._client._run(_core.signing_secrets(self._client._config))

    async def verify(
        self, body: bytes | str, headers: Mapping[str, str], *, secret: str | None = None
    ) -> WebhookEvent:
        """The event if the delivery is genuine and fresh, else `WebhookVerificationError`
        (as `Client.webhooks.verify`)."""
        flow = _core.verify_webhook(self._client._config, body, headers, secret, self._cache)
        return await self._client._run(flow)
