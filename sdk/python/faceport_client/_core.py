"""The API's operations without the I/O, shared by `Client` and `AsyncClient`.

Each operation is a flow: a generator that yields what to do next (a `Call` to send, a
`Sleep`, a `Progress` report), is sent back the answer to a `Call` (the `httpx.Response`,
or the `httpx.TransportError` raised instead), and returns the operation's result. Paths,
bodies, headers, idempotency keys, `Prefer: wait`, retries, polling and reading answers
all live here; a client only runs flows (`advance` until `Done`), sending the calls with
httpx and sleeping, blocking or awaited. `_base.py` holds the pieces these flows use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from faceport_client._base import (
    POLL_FACTOR,
    POLL_FIRST_S,
    POLL_MAX_S,
    Config,
    connection_failed,
    finished,
    parse,
    retry_delay,
    submit_headers,
)
from faceport_client._bodies import detect_body
from faceport_client._errors import FaceportError, WaitTimeout, WebhookVerificationError
from faceport_client._inputs import Input
from faceport_client._models import Account, SigningSecrets, Task, TaskList, WebhookEvent
from faceport_client._webhooks import verify_signature

T = TypeVar("T")
# Called with the task as it moves: a plain function, or (async client only) one whose
# result, when not None, the client awaits.
OnProgress = Callable[[Task], object]


@dataclass(frozen=True)
class Call:
    """One HTTP request to the API; `retry_posts` as for `retry_delay` (None: GETs only)."""

    method: str
    path: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    retry_posts: bool | None = None


@dataclass(frozen=True)
class Sleep:
    """Wait `seconds` before going on."""

    seconds: float


@dataclass(frozen=True)
class Progress:
    """Call `callback` with `task`."""

    callback: OnProgress
    task: Task


@dataclass(frozen=True)
class Done(Generic[T]):
    """The flow has ended with `value`."""

    value: T


Step = Call | Sleep | Progress
Flow = Generator[Step, Any, T]


def advance(flow: Flow[T], reply: Any) -> Step | Done[T]:
    """The flow's next step, given the answer to its last one (None but for a `Call`)."""
    try:
        return flow.send(reply)
    except StopIteration as stop:
        return Done(stop.value)


def request(config: Config, call: Call) -> Flow[Any]:
    """The JSON of the answer to `call`, sent again after a pause while `retry_delay` says
    so and tries are left; a transport failure that is not retried is `ConnectionFailed`."""
    safe = call.method == "GET" if call.retry_posts is None else call.retry_posts
    attempt = 0
    while True:
        answer = yield call
        try:
            if isinstance(answer, httpx.TransportError):
                raise answer
            return parse(answer)
        except Exception as exc:
            delay = retry_delay(attempt, exc, retry_posts=safe)
            if delay is None or attempt >= config.max_retries:
                if isinstance(exc, httpx.TransportError):
                    raise connection_failed(exc, config.base_url) from exc
                raise
        attempt += 1
        yield Sleep(delay)


# -- operations ---------------------------------------------------------------------


def swap(
    config: Config, body: dict[str, Any], wait: bool, on_progress: OnProgress | None, timeout: float
) -> Flow[Task]:
    """Submit a face swap (`_bodies.swap_body`); see `submit`."""
    return submit(config, "/v1/face-swap", body, wait, on_progress, timeout)


def fuse(
    config: Config, body: dict[str, Any], wait: bool, on_progress: OnProgress | None, timeout: float
) -> Flow[Task]:
    """Submit a face fusion (`_bodies.fuse_body`); see `submit`."""
    return submit(config, "/v1/face-fusion", body, wait, on_progress, timeout)


def swap_video(
    config: Config, body: dict[str, Any], wait: bool, on_progress: OnProgress | None, timeout: float
) -> Flow[Task]:
    """Submit a video face swap (`_bodies.swap_video_body`); see `submit`."""
    return submit(config, "/v1/video-face-swap", body, wait, on_progress, timeout)


def submit(
    config: Config,
    path: str,
    body: dict[str, Any],
    wait: bool,
    on_progress: OnProgress | None,
    timeout: float,
) -> Flow[Task]:
    """POST a task with a fresh Idempotency-Key, asking the server to hold the answer when
    waiting without progress; the queued task, or with `wait` the ended one (`finished`)."""
    headers = submit_headers(prefer_wait=wait and on_progress is None)
    call = Call("POST", path, json=body, headers=headers, retry_posts=True)
    task = Task.model_validate((yield from request(config, call)))
    if not wait:
        return task
    return finished((yield from wait_for(config, task, on_progress, timeout)))


def detect(config: Config, image: Input) -> Flow[Task]:
    """Every face of `image`, answered at once (no `Prefer: wait`, no polling)."""
    headers = submit_headers(prefer_wait=False)
    call = Call(
        "POST", "/v1/face-detect", json=detect_body(image), headers=headers, retry_posts=True
    )
    return finished(Task.model_validate((yield from request(config, call))))


def account(config: Config) -> Flow[Account]:
    """The caller's credits and usage."""
    return Account.model_validate((yield from request(config, Call("GET", "/v1/account"))))


def get_task(config: Config, task_id: str) -> Flow[Task]:
    """The task as it is now."""
    return Task.model_validate((yield from request(config, Call("GET", f"/v1/tasks/{task_id}"))))


def list_tasks(
    config: Config, status: str | None, limit: int, cursor: str | None
) -> Flow[TaskList]:
    """One page of tasks, newest first (parameters left out when None)."""
    params = {"status": status, "limit": limit, "cursor": cursor}
    call = Call("GET", "/v1/tasks", params={k: v for k, v in params.items() if v is not None})
    return TaskList.model_validate((yield from request(config, call)))


def cancel_task(config: Config, task_id: str) -> Flow[Task]:
    """Cancel the task (not retried: a second try would answer `task_not_cancelable`)."""
    call = Call("POST", f"/v1/tasks/{task_id}/cancel", retry_posts=False)
    return Task.model_validate((yield from request(config, call)))


def wait_for(
    config: Config, task: Task | str, on_progress: OnProgress | None, timeout: float
) -> Flow[Task]:
    """The task once it has ended (whatever its status), polling with backoff; a `Progress`
    each time its status or progress moves; `WaitTimeout` after `timeout` seconds."""
    current = (yield from get_task(config, task)) if isinstance(task, str) else task
    started = time.monotonic()
    delay = POLL_FIRST_S
    seen: tuple[str, int] | None = None
    while True:
        if on_progress is not None and (current.status, current.progress) != seen:
            seen = (current.status, current.progress)
            yield Progress(on_progress, current)
        if current.status.is_terminal:
            return current
        if time.monotonic() - started > timeout:
            raise WaitTimeout(current, timeout)
        yield Sleep(delay)
        delay = min(delay * POLL_FACTOR, POLL_MAX_S)
        current = yield from get_task(config, current.id)


def signing_secrets(config: Config) -> Flow[SigningSecrets]:
    """The account's webhook signing secrets."""
    data = yield from request(config, Call("GET", "/v1/webhooks/secret"))
    return SigningSecrets.model_validate(data)


class SecretCache:
    """The signing secrets a client last fetched (None: not yet)."""

    def __init__(self) -> None:
        self.secrets: list[str] | None = None


def verify_webhook(
    config: Config,
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | None,
    cache: SecretCache,
) -> Flow[WebhookEvent]:
    """The event if the delivery is genuine and fresh, else `WebhookVerificationError`.
    Without `secret`, against the cached secrets, fetched once and again if a delivery
    does not verify (they may have been rotated)."""
    if secret is not None:
        return verify_signature(body, headers, [secret])
    if cache.secrets is not None:
        try:
            return verify_signature(body, headers, cache.secrets)
        except WebhookVerificationError:
            pass
    cache.secrets = [s.secret for s in (yield from signing_secrets(config)).secrets]
    return verify_signature(body, headers, cache.secrets)


def result_url(task: Task) -> str:
    """The signed link to the task's result (`no_result` if it has none)."""
    if task.result is None or task.result.url is None:
        raise FaceportError("no_result", f"Task {task.id} has no result to download.")
    return task.result.url
