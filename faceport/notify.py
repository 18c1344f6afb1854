"""Webhook deliveries against the ports: one try of a due delivery (the local sender thread
and the AWS sender Lambda both call `attempt`), the final event of a task, redelivery, the
deliveries list and the account's signing secrets.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from faceport import service
from faceport.errors import NothingToRedeliver, UrlFetchFailed, UrlNotAllowed
from faceport.fetch import FetchPolicy, post_url
from faceport.ports import SigningSecretStore, WebhookOutbox, WebhookQueue
from faceport.service import Queries, Services
from faceport.settings import Settings
from faceport.tasks import Task, utcnow
from faceport.webhooks import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Outcome,
    QueuedTry,
    RetryPolicy,
    SigningSecret,
    WebhookEvent,
    decide,
    final_event,
    new_secret,
    rotated,
    sends_final_event,
    sign,
    valid_secrets,
)

logger = logging.getLogger(__name__)

# (url, body, headers) -> HTTP status; raises UrlNotAllowed or UrlFetchFailed.
Poster = Callable[[str, bytes, dict[str, str]], int]


@dataclass(frozen=True)
class WebhookDeps:
    """What a sender needs: where deliveries live, the secrets, and a way to POST."""

    outbox: WebhookOutbox
    secrets: SigningSecretStore
    post: Poster
    policy: RetryPolicy
    rng: random.Random | None = None


def http_poster(settings: Settings) -> Poster:
    """POST through the SSRF-safe client (`fetch.post_url`): the notify URL is checked again
    at every send, and the checked address is the one connected to."""
    policy = FetchPolicy(
        allow_private=settings.allow_private_urls, timeout_s=settings.webhook_timeout_s
    )
    return partial(post_url, policy=policy)


# --- signing secrets ---------------------------------------------------------------------


def signing_secrets(store: SigningSecretStore, account_id: str) -> list[SigningSecret]:
    """The account's valid secrets, newest first; its first one is made on first use."""
    while True:
        now = utcnow()
        current = store.load(account_id)
        valid = valid_secrets(current.secrets, now)
        if valid:
            return valid
        fresh = [new_secret(now)]
        if store.save(account_id, fresh, current.version):
            return fresh


def rotate_secret(
    store: SigningSecretStore, account_id: str, grace: timedelta
) -> list[SigningSecret]:
    """Make a new current secret; the old ones keep signing for `grace`. Returns the valid
    secrets, newest first."""
    while True:
        now = utcnow()
        current = store.load(account_id)
        new = rotated(current.secrets, now, grace)
        if store.save(account_id, new, current.version):
            return valid_secrets(new, now)


# --- queueing ----------------------------------------------------------------------------


def final_event_of(svc: Queries, task: Task) -> WebhookEvent | None:
    """The event of a task that ended, carrying the task as its dialect's status answer
    renders it now (`GET /v1/tasks/{id}` for a native task); None, without rendering
    anything, for a task that sends none. Both runtimes' "task ended" hooks call it on
    every final write, so most calls are the cheap None."""
    if not sends_final_event(task):
        return None
    return final_event(task, svc.render_task(svc, task), bare=svc.bare_events(task.dialect))


# --- the API's side ----------------------------------------------------------------------


def list_deliveries(svc: Queries, account_id: str, task_id: str) -> list[Delivery]:
    """`GET /v1/tasks/{id}/deliveries`: every event of the task and every try."""
    service.get_task(svc, account_id, task_id)
    return svc.webhooks.deliveries(task_id)


def redeliver(svc: Services, account_id: str, task_id: str) -> Delivery:
    """Send the final event again, with the same `webhook-id` and a fresh rendering of the
    task (so its result link works again); a new series of tries starts at once."""
    event = final_event_of(svc, service.get_task(svc, account_id, task_id))
    if event is None:
        raise NothingToRedeliver()
    return svc.webhooks.enqueue(event)


# --- one try -----------------------------------------------------------------------------


def attempt(deps: WebhookDeps, delivery: Delivery) -> Delivery | None:
    """Make one try of a due delivery, signed with every valid secret of the account, and
    record it with what follows (delivered, gone, dead, or the time of the next try).
    None: another sender recorded a try of this delivery first (nothing is recorded)."""
    event = delivery.event
    keys = signing_secrets(deps.secrets, event.account_id)
    body = event.body()
    sent_at = utcnow()
    headers = sign(event.id, sent_at, body, keys)
    started = time.monotonic()
    outcome = _send(deps.post, event.url, body.encode(), headers)
    latency_ms = round((time.monotonic() - started) * 1000)
    return _record_try(deps, delivery, outcome, sent_at, latency_ms)


def record_failed_try(deps: WebhookDeps, delivery: Delivery, reason: str) -> Delivery | None:
    """Record a try that our own side could not make (an unexpected error in the sender):
    it counts like any failed try, so the delivery is retried on the schedule and dies
    after the policy's last try instead of being retried forever."""
    return _record_try(deps, delivery, Outcome(error=reason), utcnow(), 0)


def _record_try(
    deps: WebhookDeps, delivery: Delivery, outcome: Outcome, sent_at: datetime, latency_ms: int
) -> Delivery | None:
    event = delivery.event
    decision = decide(outcome, delivery.attempt_in_series, deps.policy, deps.rng)
    next_at = (
        utcnow() + timedelta(seconds=decision.retry_in_s)
        if decision.retry_in_s is not None
        else None
    )
    record = DeliveryAttempt(
        number=delivery.attempts + 1,
        at=sent_at,
        status_code=outcome.status_code,
        latency_ms=latency_ms,
        error=outcome.error,
    )
    logger.info(
        "webhook %s %s try %d -> %s (%d ms) %s%s",
        event.id,
        event.type,
        record.number,
        outcome.status_code or outcome.error,
        latency_ms,
        decision.status.value,
        f", next in {decision.retry_in_s:.1f} s" if decision.retry_in_s is not None else "",
    )
    return deps.outbox.record(delivery, record, decision.status, next_at)


# --- queued tries (AWS) -------------------------------------------------------------------


def queue_first_try(queue: WebhookQueue, delivery: Delivery) -> None:
    """Put the message for the next try of a just-enqueued delivery on the queue."""
    queue.send(_next_try(delivery, utcnow()), 0)


def handle_queued_try(deps: WebhookDeps, queue: WebhookQueue, queued: QueuedTry) -> Delivery | None:
    """The sender Lambda's work for one message. Stale messages (the try was made, or a
    redelivery superseded it) are dropped; early ones go back on the queue (SQS delays are
    capped at 15 minutes, the schedule reaches hours); due ones get one try, and a retry
    goes back on the queue with its delay. Raises only if the stores fail, so the message
    is retried and in the end dead-lettered by the queue's redrive policy. Returns the
    delivery after its try, None when no try was made."""
    delivery = deps.outbox.get(queued.task_id, queued.event_id)
    if (
        delivery is None
        or delivery.status is not DeliveryStatus.PENDING
        or delivery.attempts + 1 != queued.attempt
    ):
        return None
    now = utcnow()
    if queued.not_before > now:
        queue.send(queued, (queued.not_before - now).total_seconds())
        return None
    done = attempt(deps, delivery)
    if done is not None and done.status is DeliveryStatus.PENDING:
        queue.send(_next_try(done, now), (_due(done, now) - now).total_seconds())
    return done


def _due(delivery: Delivery, now: datetime) -> datetime:
    return delivery.next_attempt_at or now


def _next_try(delivery: Delivery, now: datetime) -> QueuedTry:
    return QueuedTry(
        task_id=delivery.event.task_id,
        event_id=delivery.event.id,
        attempt=delivery.attempts + 1,
        not_before=_due(delivery, now),
    )


def _send(post: Poster, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    try:
        return Outcome(status_code=post(url, body, headers))
    except UrlNotAllowed as exc:
        return Outcome(error=f"{exc.code}: {exc.message}", refused=True)
    except UrlFetchFailed as exc:
        return Outcome(error=exc.message)
