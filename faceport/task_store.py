"""What every TaskStore shares: the transition rule of `update_if` and the wait of
`wait_until_done`, written once over two per-store primitives (`TaskRecords`).

A store gives `read` (the task and a version of what was read) and `write` (store the new
task only if the version is unchanged: a conditional write). SQLite runs the rule inside
one write transaction, where nobody else can write; DynamoDB compares a `version`
attribute and, when another writer came first, the rule reads again and decides again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any, Protocol

from faceport.tasks import Task, TaskStatus


class TaskRecords(Protocol):
    def read(self, task_id: str) -> tuple[Task, str] | None:
        """The task as stored and a version token of what was read; None if unknown."""

    def write(self, task_id: str, version: str, new: Task, *, ends: bool) -> bool:
        """Store `new` if the task is still at `version`; False, and nothing written, when
        another writer came first. `ends`: this write ends the task (the store runs its
        end hook, once, for the writer that ended it)."""


def update_if(
    records: TaskRecords, task_id: str, expected: Collection[TaskStatus], changes: dict[str, Any]
) -> Task | None:
    """The `TaskStore.update_if` contract: apply `changes` only if the task's status is in
    `expected` at the moment of the write; the new task, or None if it is unknown or its
    status is not (or no longer) one of `expected`."""
    while True:
        found = records.read(task_id)
        if found is None:
            return None
        task, version = found
        if task.status not in expected:
            return None
        new = Task.model_validate({**task.model_dump(), **changes})
        ends = new.status.is_terminal and not task.status.is_terminal
        if records.write(task_id, version, new, ends=ends):
            return new


def wait_until_done(
    get: Callable[[str], Task | None],
    task_id: str,
    timeout_s: float,
    pause: Callable[[float], None],
) -> Task | None:
    """The `TaskStore.wait_until_done` contract: the task once it is terminal, or as it is
    when `timeout_s` has passed; `pause(seconds)` waits at most that long for a change."""
    deadline = time.monotonic() + timeout_s
    while True:
        task = get(task_id)
        remaining = deadline - time.monotonic()
        if task is None or task.status.is_terminal or remaining <= 0:
            return task
        pause(remaining)
