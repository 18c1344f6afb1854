"""Reading stored tasks defensively: a body that cannot be parsed any more (a bug, a
hand edit, a version skew) becomes a failed stand-in with code `task_unreadable`, so it
fails alone instead of stopping the workers, other accounts' tasks or a restart."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from faceport.errors import TaskUnreadable
from faceport.tasks import Operation, Task, TaskError, TaskParams, TaskStatus

logger = logging.getLogger(__name__)

_OPERATION = re.compile(r'"operation"\s*:\s*"(face_swap|face_fusion|face_detect|video_face_swap)"')
_PRICE = re.compile(r'"price"\s*:\s*([0-9]{1,12})[,}]')


def parse_task(body: str, *, task_id: str, account_id: str, created_at: datetime) -> Task:
    """The stored task, or a failed stand-in for one whose body cannot be read."""
    try:
        return Task.model_validate_json(body)
    except Exception:  # pydantic's ValidationError, RecursionError, anything a body causes
        logger.exception("task %s cannot be read back (%d bytes); failing it", task_id, len(body))
        return stand_in(body, task_id=task_id, account_id=account_id, created_at=created_at)


def stand_in(body: str, *, task_id: str, account_id: str, created_at: datetime) -> Task:
    """A failed task in place of an unreadable one, keeping what the row still tells."""
    operation = _OPERATION.search(body[:4096])
    price = _PRICE.search(body)
    error = TaskUnreadable()
    op: Operation = operation.group(1) if operation else "face_swap"  # type: ignore[assignment]
    return Task(
        id=task_id,
        account_id=account_id,
        operation=op,
        status=TaskStatus.FAILED,
        params=TaskParams(),
        inputs={},
        created_at=created_at,
        finished_at=created_at,
        price=int(price.group(1)) if price else 0,
        error=TaskError(code=error.code, message=error.message),
    )


def is_stand_in(task: Task) -> bool:
    return task.error is not None and task.error.code == TaskUnreadable.code
