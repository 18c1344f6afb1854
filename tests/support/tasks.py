"""A minimal face-swap task for store and adapter tests."""

from __future__ import annotations

from datetime import timedelta

from faceport.tasks import InputRef, Task, TaskParams, new_task_id, utcnow


def make_task(account: str = "acct_1", offset_s: float = 0.0) -> Task:
    """A queued face swap of `account`, created `offset_s` seconds from now."""
    return Task(
        id=new_task_id(),
        account_id=account,
        operation="face_swap",
        params=TaskParams(),
        inputs={"source": InputRef(blob="s"), "target": InputRef(blob="t")},
        created_at=utcnow() + timedelta(seconds=offset_s),
    )
