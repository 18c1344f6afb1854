"""Webhooks, the pure part: events, Standard Webhooks signatures, signing secrets, the retry
schedule and the decision table. No I/O here; `faceport.notify` runs deliveries against the
ports, and the adapters store them.

A task that ends (`task.succeeded`, `task.failed`, `task.canceled`) and was submitted with a
`notify_url` gets one final event. Its id is derived from the task id, so every retry, every
re-run of the step that queued it, and every redelivery carries the same `webhook-id` and a
consumer can de-duplicate on it.
"""

from __future__ import annotations

import base64
import json
import random
import secrets as _secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from standardwebhooks.webhooks import Webhook

from faceport.tasks import TERMINAL, Task, TaskStatus

EventType = Literal["task.succeeded", "task.failed", "task.canceled"]

SECRET_PREFIX = "whsec_"


# --- events ----------------------------------------------------------------------------


class WebhookEvent(BaseModel):
    """One notification: who gets it, and the exact JSON they get."""

    model_config = ConfigDict(frozen=True)

    id: str  # the `webhook-id`: the same on every retry and redelivery
    type: EventType
    account_id: str
    task_id: str
    url: str
    created_at: datetime
    payload: dict[str, Any]

    def body(self) -> str:
        """The JSON text that is signed and sent (the same on every try)."""
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=True)


def final_event_id(task_id: str) -> str:
    """A task ends once, so its final event's id follows from the task's id."""
    return f"msg_{task_id.removeprefix('task_')}_final"


def sends_final_event(task: Task) -> bool:
    """Whether the task has a final event to send: it ended, and it has a notify_url."""
    return task.notify_url is not None and task.status in TERMINAL


def final_event(
    task: Task, task_view: dict[str, Any], *, bare: bool = False
) -> WebhookEvent | None:
    """The event for a task that has ended, or None if it ended quietly (no notify_url) or
    has not ended. `task_view` is the task as `GET /v1/tasks/{id}` renders it (JSON-ready).

    The payload has the shape Standard Webhooks recommends: `type`, `timestamp`, `data`;
    `bare` sends `task_view` itself (a dialect whose clients expect its task object, such as
    MJ-proxy's notifyHook).
    """
    if not sends_final_event(task):
        return None
    assert task.notify_url is not None
    event_type: EventType = _EVENT_TYPES[task.status]
    created_at = task.finished_at or task.created_at
    return WebhookEvent(
        id=final_event_id(task.id),
        type=event_type,
        account_id=task.account_id,
        task_id=task.id,
        url=task.notify_url,
        created_at=created_at,
        payload=task_view
        if bare
        else {"type": event_type, "timestamp": created_at.isoformat(), "data": task_view},
    )


_EVENT_TYPES: dict[TaskStatus, EventType] = {
    TaskStatus.SUCCEEDED: "task.succeeded",
    TaskStatus.FAILED: "task.failed",
    TaskStatus.CANCELED: "task.canceled",
}


# --- signing secrets ---------------------------------------------------------------------


class SigningSecret(BaseModel):
    """A `whsec_` secret; `expires_at` is set once a newer secret replaced it."""

    model_config = ConfigDict(frozen=True)

    secret: str
    created_at: datetime
    expires_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def new_secret(now: datetime) -> SigningSecret:
    """A fresh secret: 32 random bytes, base64, with the `whsec_` prefix the spec uses."""
    raw = base64.b64encode(_secrets.token_bytes(32)).decode()
    return SigningSecret(secret=SECRET_PREFIX + raw, created_at=now)


def valid_secrets(secrets: Sequence[SigningSecret], now: datetime) -> list[SigningSecret]:
    """The secrets that still sign, newest first."""
    alive = [s for s in secrets if s.valid_at(now)]
    return sorted(alive, key=lambda s: s.created_at, reverse=True)


def rotated(
    secrets: Sequence[SigningSecret], now: datetime, grace: timedelta
) -> list[SigningSecret]:
    """A new current secret; the ones still valid stay valid for `grace` more at most, so a
    consumer can switch over without rejecting a single event."""
    until = now + grace
    kept = [
        s.model_copy(update={"expires_at": min(s.expires_at or until, until)})
        for s in valid_secrets(secrets, now)
    ]
    return [new_secret(now), *(kept if grace > timedelta(0) else [])]


def sign(
    event_id: str, timestamp: datetime, body: str, secrets: Sequence[SigningSecret]
) -> dict[str, str]:
    """Standard Webhooks headers for one send. Signed with every valid secret (space
    separated, as the spec allows), so a consumer holding either the old or the new secret
    during a rotation verifies it."""
    if not secrets:
        raise ValueError("at least one signing secret is needed")
    signatures = [Webhook(s.secret).sign(event_id, timestamp, body) for s in secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


# --- retries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: try n+1 comes `base * factor**(n-1)` seconds after
    try n (capped at `max_delay_s`), each delay stretched or shrunk by up to `jitter`."""

    max_attempts: int = 12
    base_s: float = 15.0
    factor: float = 3.0
    max_delay_s: float = 5 * 3600.0
    jitter: float = 0.2
    timeout_s: float = 10.0

    def nominal_delay(self, attempt: int) -> float:
        """Seconds between try `attempt` and the next, before jitter."""
        return min(self.max_delay_s, self.base_s * self.factor ** (attempt - 1))

    def delay_after(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds from try `attempt` (1-based within its series) to the next, with jitter."""
        spread = (rng or _RNG).uniform(-self.jitter, self.jitter)
        return self.nominal_delay(attempt) * (1.0 + spread)

    def schedule(self) -> list[float]:
        """Nominal delays between consecutive tries (for docs and the report)."""
        return [self.nominal_delay(n) for n in range(1, self.max_attempts)]


_RNG = random.Random()


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # a try is due or under way
    DELIVERED = "delivered"  # a 2xx
    GONE = "gone"  # the receiver answered 410: it wants no more
    DEAD = "dead"  # out of tries, or the URL is no longer allowed; redeliver to try again


@dataclass(frozen=True)
class Outcome:
    """What one try came to: an HTTP status, or an error before one arrived."""

    status_code: int | None = None
    error: str | None = None
    refused: bool = False  # the URL failed the SSRF check at send time


@dataclass(frozen=True)
class Decision:
    status: DeliveryStatus
    retry_in_s: float | None = None


def decide(
    outcome: Outcome, attempt: int, policy: RetryPolicy, rng: random.Random | None = None
) -> Decision:
    """The decision table. 2xx: delivered. 410: gone, no more tries. A URL refused by the
    SSRF rules: dead (trying again would only knock on the same door). Anything else
    (timeout, connection error, 5xx, any other status): retry, unless `attempt` was the
    series' last, then dead."""
    code = outcome.status_code
    if code is not None and 200 <= code < 300:
        return Decision(DeliveryStatus.DELIVERED)
    if code == 410:
        return Decision(DeliveryStatus.GONE)
    if outcome.refused or attempt >= policy.max_attempts:
        return Decision(DeliveryStatus.DEAD)
    return Decision(DeliveryStatus.PENDING, policy.delay_after(attempt, rng))


# --- deliveries --------------------------------------------------------------------------


class DeliveryAttempt(BaseModel):
    """One try, as the deliveries endpoint lists it."""

    model_config = ConfigDict(frozen=True)

    number: int
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None = None


class Delivery(BaseModel):
    """An event and where its delivery stands.

    `attempts` counts every try ever made; `series_start` is the count when the current
    series began (0, or the count at the last redelivery), so the retry schedule restarts
    on a redelivery while the history keeps every try.
    """

    model_config = ConfigDict(frozen=True)

    event: WebhookEvent
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    series_start: int = 0
    next_attempt_at: datetime | None = None
    history: list[DeliveryAttempt] = []

    @property
    def attempt_in_series(self) -> int:
        """The number within its series that the next try will have (1-based)."""
        return self.attempts - self.series_start + 1


class QueuedTry(BaseModel):
    """A queue message that says: make try number `attempt` of this delivery, not before
    `not_before`. A message whose attempt is no longer the next one is stale and dropped."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    event_id: str
    attempt: int
    not_before: datetime
