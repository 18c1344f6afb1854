"""What every provider adapter shares: the call it gets, the outcome it reports, the HTTP
client that tells a refusal (the next backend may try) from a failure, and the circuit
breaker. Each kind's module speaks its API's wire format only; `backend.ProviderBackend`
turns one into an implementation of the backend port. See docs/ARCHITECTURE.md,
"External providers"."""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from faceport.errors import (
    FaceportError,
    NoFaceInSource,
    NoFaceInTarget,
    ProviderFailed,
    ProviderRefused,
    UnsupportedMedia,
    error_for_code,
)
from faceport.tasks import Task

State = Literal["running", "succeeded", "failed"]


@dataclass(frozen=True)
class Outcome:
    """Where the provider's work is: running, done (a result URL, bytes or data), failed."""

    state: State
    result_url: str | None = None
    result_bytes: bytes | None = None
    result_data: dict[str, Any] | None = None
    error: FaceportError | None = None


RUNNING = Outcome("running")


@dataclass(frozen=True)
class Call:
    """A task to hand to a provider: its inputs as expiring signed links or as bytes."""

    task: Task
    link: Callable[[str], str]  # input name -> a link the provider can download it from
    data: Callable[[str], bytes]  # input name -> its bytes
    callback_url: str | None  # faceport's callback route for this task, token included


@dataclass(frozen=True)
class Submitted:
    remote_id: str
    outcome: Outcome = RUNNING  # a synchronous provider is done at once


class Provider(Protocol):
    """One provider API's wire format (a module of this package per kind)."""

    # The interval its documentation recommends (FACEPORT_PROVIDERS `poll_interval_s`
    # overrides it) and whether it calls back when done (then polls are a fallback).
    poll_interval_s: float
    calls_back: bool

    def supports(self, task: Task) -> bool:
        """Whether it can do this task as asked (operation and options)."""

    def submit(self, http: ProviderHttp, call: Call) -> Submitted: ...

    def poll(self, http: ProviderHttp, remote_id: str) -> Outcome: ...

    def cancel(self, http: ProviderHttp, remote_id: str) -> None: ...


def is_plain_png_swap(task: Task) -> bool:
    """A face swap of the largest target face into a PNG: all that the roop-style APIs
    (Zhiqite, mj-proxy) take."""
    params = task.params
    return (
        task.operation == "face_swap"
        and params.target_index == 0
        and params.face_map is None
        and params.output_format == "png"
    )


class PollTrouble(Exception):
    """A poll that got no usable answer (unreachable, 5xx): look again later."""


class ProviderHttp:
    """An HTTP client on the provider's `base_url` with its auth headers. `submit` turns
    "did not take it" (unreachable, 5xx, 429) into `ProviderRefused`, and other 4xx or no
    answer once the request went out into `ProviderFailed`; `poll` turns passing trouble
    into `PollTrouble`."""

    def __init__(
        self, base_url: str, headers: Callable[[], dict[str, str]], timeout_s: float
    ) -> None:
        self._base = base_url.rstrip("/")
        self._headers = functools.cache(headers)  # the key is read on first use (a secret)
        self._timeout = httpx.Timeout(timeout_s)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
            return client.request(method, self._base + path, headers=self._headers(), **kwargs)

    def submit(
        self, method: str, path: str, *, accept: frozenset[int] = frozenset(), **kwargs: Any
    ) -> httpx.Response:
        """Send a submit; a 4xx in `accept` comes back for the kind to read."""
        try:
            reply = self._send(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ProviderRefused(f"The provider could not be reached: {exc}.") from exc
        except httpx.TransportError as exc:
            # The request went out: the provider may have started, so no other backend
            # may take the task (nothing is paid twice).
            raise ProviderFailed(f"The provider did not answer the submit: {exc}.") from exc
        if reply.status_code >= 500 or reply.status_code == 429:
            raise ProviderRefused(f"The provider answered {reply.status_code} at submit.")
        if reply.status_code >= 400 and reply.status_code not in accept:
            raise ProviderFailed(f"The provider refused the request ({reply.status_code}).")
        return reply

    def poll(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            reply = self._send(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise PollTrouble(str(exc)) from exc
        if reply.status_code >= 500 or reply.status_code == 429:
            raise PollTrouble(f"status {reply.status_code}")
        return reply


def json_of(reply: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; anything else is the provider failing."""
    try:
        body = reply.json()
    except ValueError as exc:
        raise ProviderFailed("The provider answered something that is not JSON.") from exc
    if not isinstance(body, dict):
        raise ProviderFailed("The provider answered JSON that is not an object.")
    return body


def failure(message: str | None, code: str | None = None) -> Outcome:
    """A failed outcome with faceport's code for what the provider said."""
    return Outcome("failed", error=error_from_provider(message or "", code))


_NO_FACE = re.compile(r"no\s+face|face\s+not\s+(found|detected)", re.IGNORECASE)
_BAD_INPUT = re.compile(r"invalid|unsupported|cannot (read|decode)|bad (image|input)", re.I)


def error_from_provider(message: str, code: str | None = None) -> FaceportError:
    """faceport's error for a provider's failure: its own code when it is faceport's (the
    `faceport` kind), no face and bad input by the message, else `provider_failed`."""
    if code is not None:
        known = error_for_code(code, message or None)
        if known.code == code:
            return known
    text = f"{code or ''} {message}"
    if _NO_FACE.search(text):
        source = "source" in text.lower()
        return (NoFaceInSource if source else NoFaceInTarget)(f"The provider: {message}")
    if _BAD_INPUT.search(text):
        return UnsupportedMedia(f"The provider: {message}")
    return ProviderFailed(f"The provider failed the task: {message or code or 'no reason'}.")


class Circuit:
    """Refuse at once after `threshold` refusals in a row, for `open_s`; one try then
    decides (half-open). Per provider and process."""

    def __init__(self, threshold: int = 5, open_s: float = 30.0) -> None:
        self._threshold, self._open_s = threshold, open_s
        self._refusals = 0
        self._open_until = 0.0
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            if self._refusals >= self._threshold and time.monotonic() < self._open_until:
                raise ProviderRefused("The provider's circuit is open after repeated refusals.")

    def record(self, refused: bool) -> None:
        with self._lock:
            self._refusals = self._refusals + 1 if refused else 0
            if self._refusals >= self._threshold:
                self._open_until = time.monotonic() + self._open_s
