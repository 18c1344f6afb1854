"""Credits: what a task costs, and settling its reservation when it ends.

The life of a charge: submit *reserves* the task's price (`Ledger.reserve`, 402 when the
available credits cannot cover it); a task that succeeds *commits* the charge, one that
fails or is canceled *releases* it. Each is one ledger entry keyed by task id and kind,
written at most once in the same transaction as the balance change, so a repeated step, a
duplicated message or a retry changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from pydantic import BaseModel

from faceport.operations import spec_of
from faceport.ports import Ledger, TaskStore
from faceport.settings import Settings
from faceport.tasks import Task, TaskStatus

logger = logging.getLogger(__name__)


def price_of(settings: Settings, operation: str, *, video_seconds: float | None = None) -> int:
    """Credits a task of `operation` is accepted at (and reserved for): the operations
    table's price rule. A video is held for `price_video_hold_s` seconds, the longest
    accepted, until its prepare step probes it and lowers the price to its real duration
    (an inline MP4/MOV is held for the length its header declares); a success is charged
    the task's price and the rest of the hold is released."""
    return spec_of(operation).price(settings, video_seconds)


def hold_reason(settings: Settings, operation: str, price: int, seconds: float | None) -> str:
    """Why a submit holds `price` credits, for the 402 message."""
    if spec_of(operation).result != "video":
        return f"This {operation} task holds its price, {price} credits."
    rate = f"{settings.price_video_per_second} per started second, at least "
    rate += f"{settings.price_video_minimum}"
    if seconds is not None:
        return f"This video task holds {price} credits ({rate}) for its {seconds:.1f} s."
    return (
        f"This video task holds {price} credits ({rate}) for up to "
        f"{settings.price_video_hold_s:g} s, the longest video accepted, because its "
        "length cannot be read before it is fetched (send an MP4/MOV inline to be held "
        "for its real length); what it does not use is released when it ends."
    )


def fingerprint(operation: str, request: BaseModel | dict[str, Any]) -> str:
    """A digest of what was asked, for `Idempotency-Key`: the same body (in any key order
    or spacing) gives the same fingerprint, any change gives another."""
    body = request.model_dump(mode="json") if isinstance(request, BaseModel) else request
    canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def settle(ledger: Ledger, task: Task | None) -> None:
    """Commit a succeeded task's charge, release a failed or canceled one's; nothing for
    an unfinished task. Safe to call any number of times."""
    if task is None or not task.status.is_terminal:
        return
    if task.status is TaskStatus.SUCCEEDED:
        ledger.commit(task.account_id, task.id, task.price)
    else:
        ledger.release(task.account_id, task.id)


def reconcile(tasks: TaskStore, ledger: Ledger, *, older_than_s: float = 0.0) -> int:
    """Settle reservations left open by a crash between a task's last status change and
    its commit or release; give back holds whose task was never written (a crash during
    submit). Returns how many were settled."""
    settled = 0
    for hold in ledger.open_reservations(older_than_s):
        try:
            task = tasks.get(hold.task_id)
            if task is None:
                ledger.abandon(hold.account_id, hold.task_id)
            elif task.status.is_terminal:
                settle(ledger, task)
            else:
                continue
        except Exception:  # one bad hold must not stop a start-up (or the others)
            logger.exception("could not reconcile the hold of task %s", hold.task_id)
            continue
        settled += 1
    if settled:
        logger.info("reconciled %d open reservation(s)", settled)
    return settled
