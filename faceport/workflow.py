"""The workflow steps of a task: plain functions that the local worker pool runs in order
and that the AWS state machine calls one by one (begin, prepare, start on the backend that
`route` picks, collect what a remote backend made, finalize; fail on any error).

Every step is safe to run again (a retried or resumed task repeats the step it was in),
and every status change is a conditional write, so a task canceled meanwhile stays
canceled and leaves no result behind.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceport import billing
from faceport.backends import Backend, Job, Output, Started
from faceport.backends import store_result as _store_result
from faceport.engine_protocol import EngineResult
from faceport.errors import FaceportError, OperationNotAvailable
from faceport.inputs import byte_cap, store_input
from faceport.operations import spec_of
from faceport.ports import BlobStore, Fetcher, Ledger, TaskStore
from faceport.settings import Settings
from faceport.tasks import (
    ACTIVE,
    InputRef,
    Operation,
    Task,
    TaskError,
    TaskStatus,
    VideoInfo,
    utcnow,
)

logger = logging.getLogger(__name__)

RUNNING = (TaskStatus.RUNNING,)


@dataclass(frozen=True)
class WorkflowDeps:
    settings: Settings
    tasks: TaskStore
    blobs: BlobStore
    fetcher: Fetcher
    ledger: Ledger
    # Where tasks run, in order of preference (`route` picks one per task).
    backends: tuple[Backend, ...] = ()


def route(backends: Sequence[Backend], operation: Operation) -> Backend:
    """The backend that runs `operation`: the first of `backends` whose kind the operations
    table lists for it. Raises `OperationNotAvailable` (a 4xx) when none can: the API
    calls this at submit, so such a task is refused before anything is held."""
    able = spec_of(operation).backends
    for backend in backends:
        if backend.kind in able:
            return backend
    raise OperationNotAvailable(f"This deployment has no backend that runs {operation}.")


def _running_task(deps: WorkflowDeps, task_id: str) -> Task | None:
    task = deps.tasks.get(task_id)
    return task if task is not None and task.status is TaskStatus.RUNNING else None


def prepare(deps: WorkflowDeps, task_id: str) -> Task | None:
    """Fetch URL inputs into blobs and check them like inline inputs. None: task gone."""
    task = _running_task(deps, task_id)
    if task is None:
        return None
    spec = spec_of(task.operation)
    inputs: dict[str, InputRef] = {}
    for name, ref in task.inputs.items():
        if ref.blob is not None:
            inputs[name] = ref
            continue
        assert ref.url is not None
        kind = spec.input_kind(name)
        cap = byte_cap(kind, deps.settings) if kind == "video" else None
        data, _claimed_type = deps.fetcher.fetch(ref.url, max_bytes=cap)
        key = store_input(deps.blobs, deps.settings, task.id, name, kind, data)
        inputs[name] = InputRef(url=ref.url, blob=key)
    changes: dict[str, Any] = {"inputs": inputs, "progress": 25}
    video_input = next((i.name for i in spec.inputs if i.kind == "video"), None)
    if video_input is not None:
        video = _probe_video(deps, inputs[video_input])
        changes["video"] = video
        # Held for the longest video at submit; from here the price is this video's.
        changes["price"] = min(task.price, spec.price(deps.settings, video.duration_s))
        changes["progress"] = 5  # the frames are the work; progress counts them from here
    return deps.tasks.update_if(task_id, RUNNING, **changes)


def _probe_video(deps: WorkflowDeps, ref: InputRef) -> VideoInfo:
    """Probe the stored video and enforce the duration and resolution limits, so a video
    over a limit fails with that limit's code before any engine work."""
    from faceport.video_probe import check_video_limits, probe_video

    assert ref.blob is not None
    with _scratch_dir() as scratch:
        path = scratch / "video"
        deps.blobs.get_file(ref.blob, path)
        info = probe_video(path)
    check_video_limits(info, deps.settings)
    return info


@contextmanager
def _scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="faceport-") as name:
        yield Path(name)


def begin(deps: WorkflowDeps, task_id: str) -> Task | None:
    """Mark a queued task running: the state machine's first step (the local worker pool
    does the same when it claims a task). None: the task is gone or already ended."""
    task = deps.tasks.get(task_id)
    if task is None or task.status.is_terminal:
        return None
    return deps.tasks.update_if(
        task_id,
        ACTIVE,
        status=TaskStatus.RUNNING,
        started_at=task.started_at or utcnow(),
        attempts=task.attempts + 1,
    )


def start(deps: WorkflowDeps, task_id: str, *, callback: str | None = None) -> Started:
    """Run the prepared task on the backend `route` picks: its `Output` when the backend
    did the work at once (in-process), `PENDING` when it reports later through `callback`
    (a remote backend; the state machine's dispatch step), None when the task is gone."""
    task = _running_task(deps, task_id)
    if task is None:
        return None
    job = job_of(task, deps.tasks, deps.blobs, deps.settings, callback=callback)
    return route(deps.backends, task.operation).start(job)


def job_of(
    task: Task,
    tasks: TaskStore,
    blobs: BlobStore,
    settings: Settings,
    *,
    callback: str | None = None,
) -> Job:
    """A running task as a backend's `Job`: progress written to the task, a stop once it
    is canceled (also the SageMaker container's, for a video)."""
    return Job(
        task=task,
        blobs=blobs,
        progress=_progress_writer(tasks, settings, task.id, start=task.progress),
        should_stop=_cancel_poller(tasks, task.id),
        callback=callback,
    )


def collect(deps: WorkflowDeps, task_id: str, result: EngineResult) -> Output | None:
    """Store what a remote backend made: a file as the task's result blob, detection data
    as is. None: task gone."""
    task = _running_task(deps, task_id)
    if task is None:
        return None
    return _store_result(deps.blobs, task, result)


# how often a running video task looks whether it was canceled
CANCEL_POLL_INTERVAL_S = 0.5


def _progress_writer(
    tasks: TaskStore, settings: Settings, task_id: str, *, start: int
) -> Callable[[float], None]:
    """Map the engine's fraction done onto start..99 on the task, at most once every
    `progress_interval_s`."""
    interval_s = settings.progress_interval_s
    last = {"at": 0.0, "value": start}

    def write(fraction: float) -> None:
        value = min(99, start + int((99 - start) * fraction))
        now = time.monotonic()
        if value > last["value"] and now - last["at"] >= interval_s:
            last.update(at=now, value=value)
            tasks.update_if(task_id, RUNNING, progress=value)

    return write


def _cancel_poller(tasks: TaskStore, task_id: str) -> Callable[[], bool]:
    """True once the task is no longer running (canceled); reads the store twice a second."""
    state = {"at": 0.0, "stop": False}

    def should_stop() -> bool:
        now = time.monotonic()
        if not state["stop"] and now - state["at"] >= CANCEL_POLL_INTERVAL_S:
            state["at"] = now
            current = tasks.get(task_id)
            state["stop"] = current is None or current.status is not TaskStatus.RUNNING
        return bool(state["stop"])

    return should_stop


def finalize(deps: WorkflowDeps, task_id: str, output: Output) -> Task | None:
    """Mark the task succeeded with its result, unless it was canceled meanwhile; then
    settle its charge (also when a retry of this step finds the task already ended)."""
    done = deps.tasks.update_if(
        task_id,
        RUNNING,
        status=TaskStatus.SUCCEEDED,
        result_key=output.result_key,
        result_data=output.result_data,
        progress=100,
        finished_at=utcnow(),
    )
    if done is None and output.result_key:
        deps.blobs.delete(output.result_key)  # canceled while we worked: leave no result
    billing.settle(deps.ledger, done or deps.tasks.get(task_id))
    return done


def fail(deps: WorkflowDeps, task_id: str, error: FaceportError) -> Task | None:
    """End an unfinished task as failed with the error's stable code, and release its
    hold (also when a retry of this step finds the task already ended)."""
    failed = deps.tasks.update_if(
        task_id,
        ACTIVE,
        status=TaskStatus.FAILED,
        error=TaskError(code=error.code, message=error.message),
        finished_at=utcnow(),
    )
    billing.settle(deps.ledger, failed or deps.tasks.get(task_id))
    return failed


def run_task(deps: WorkflowDeps, task_id: str) -> None:
    """All steps in order, as the local worker pool runs them. Never raises."""
    try:
        if prepare(deps, task_id) is None:
            return
        output = start(deps, task_id)
        if isinstance(output, Output):
            finalize(deps, task_id, output)
    except FaceportError as error:
        fail(deps, task_id, error)
    except Exception:
        logger.exception("task %s failed unexpectedly", task_id)
        fail(deps, task_id, FaceportError())
