"""The pure webhook rules: event building, signatures, secrets, schedule, decision table."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from faceport.settings import Settings
from faceport.tasks import Task, TaskParams, TaskStatus
from faceport.webhooks import (
    DeliveryStatus,
    Outcome,
    RetryPolicy,
    decide,
    final_event,
    new_secret,
    rotated,
    sign,
    valid_secrets,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def task(status: TaskStatus, notify_url: str | None = "https://example.com/hook") -> Task:
    return Task(
        id="task_0123456789abcdef",
        account_id="acct_a",
        operation="face_swap",
        status=status,
        params=TaskParams(),
        inputs={},
        notify_url=notify_url,
        created_at=NOW,
        finished_at=NOW + timedelta(seconds=3),
    )


@pytest.mark.parametrize(
    ("status", "event_type"),
    [
        (TaskStatus.SUCCEEDED, "task.succeeded"),
        (TaskStatus.FAILED, "task.failed"),
        (TaskStatus.CANCELED, "task.canceled"),
    ],
)
def test_final_event_per_status(status: TaskStatus, event_type: str) -> None:
    event = final_event(task(status), {"id": "task_0123456789abcdef"})
    assert event is not None
    assert event.type == event_type
    assert event.id == "msg_0123456789abcdef_final"
    assert event.payload == {
        "type": event_type,
        "timestamp": "2025-06-01T12:00:03+00:00",
        "data": {"id": "task_0123456789abcdef"},
    }


def test_no_event_without_notify_url_or_before_the_end() -> None:
    assert final_event(task(TaskStatus.SUCCEEDED, notify_url=None), {}) is None
    assert final_event(task(TaskStatus.RUNNING), {}) is None


def test_signature_verifies_with_standardwebhooks_under_every_valid_secret() -> None:
    a, b = new_secret(NOW), new_secret(NOW)
    body = '{"type":"task.succeeded"}'
    now = datetime.now(UTC)
    headers = sign("msg_1", now, body, [a, b])
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for key in (a, b):
        assert Webhook(key.secret).verify(body, headers) == {"type": "task.succeeded"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret(NOW).secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(a.secret).verify(body.replace("succeeded", "failed"), headers)


def test_rotation_keeps_old_secrets_for_the_grace_period_only() -> None:
    first = new_secret(NOW)
    assert first.secret.startswith("whsec_")
    after = rotated([first], NOW, timedelta(hours=1))
    assert [s.secret for s in valid_secrets(after, NOW)] == [after[0].secret, first.secret]
    later = NOW + timedelta(hours=1, seconds=1)
    assert [s.secret for s in valid_secrets(after, later)] == [after[0].secret]
    # A second rotation within the grace period does not extend the oldest secret's life.
    again = rotated(after, NOW + timedelta(minutes=30), timedelta(hours=1))
    assert [s.expires_at for s in again] == [
        None,
        NOW + timedelta(minutes=90),
        NOW + timedelta(hours=1),
    ]
    assert [s.secret for s in rotated(after, NOW, timedelta(0))] != [first.secret]
    assert len(rotated(after, NOW, timedelta(0))) == 1


def test_default_schedule_spreads_twelve_tries_over_about_a_day() -> None:
    schedule = Settings().webhook_retry_policy.schedule()
    assert len(schedule) == 11
    assert schedule[:3] == [15.0, 45.0, 135.0]
    assert all(b >= a for a, b in itertools.pairwise(schedule))
    assert 20 * 3600 < sum(schedule) < 28 * 3600


def test_jitter_stays_within_its_bounds_and_varies() -> None:
    policy = RetryPolicy(base_s=100, factor=2, jitter=0.2)
    rng = random.Random(1)
    delays = [policy.delay_after(2, rng) for _ in range(200)]
    assert all(160 <= d <= 240 for d in delays)
    assert max(delays) - min(delays) > 40


POLICY = RetryPolicy(max_attempts=3, base_s=10, factor=2, jitter=0)


@pytest.mark.parametrize(
    ("outcome", "attempt", "status", "retry_in"),
    [
        (Outcome(status_code=200), 1, DeliveryStatus.DELIVERED, None),
        (Outcome(status_code=204), 3, DeliveryStatus.DELIVERED, None),
        (Outcome(status_code=410), 1, DeliveryStatus.GONE, None),
        (Outcome(status_code=500), 1, DeliveryStatus.PENDING, 10),
        (Outcome(status_code=503), 2, DeliveryStatus.PENDING, 20),
        (Outcome(status_code=404), 1, DeliveryStatus.PENDING, 10),
        (Outcome(status_code=301), 1, DeliveryStatus.PENDING, 10),
        (Outcome(error="Timed out after 10 s."), 2, DeliveryStatus.PENDING, 20),
        (Outcome(error="Could not connect"), 1, DeliveryStatus.PENDING, 10),
        (Outcome(status_code=500), 3, DeliveryStatus.DEAD, None),
        (Outcome(error="Timed out"), 3, DeliveryStatus.DEAD, None),
        (Outcome(error="url_not_allowed", refused=True), 1, DeliveryStatus.DEAD, None),
    ],
)
def test_decision_table(
    outcome: Outcome, attempt: int, status: DeliveryStatus, retry_in: float | None
) -> None:
    decision = decide(outcome, attempt, POLICY)
    assert (decision.status, decision.retry_in_s) == (status, retry_in)
