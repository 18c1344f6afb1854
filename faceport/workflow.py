"""The workflow steps of a task: plain functions that the local worker pool runs in order
and that the AWS state machine calls one by one (begin, prepare, then dispatch to the
remote engine, collect, finalize; fail on any error).

Every step is safe to run again (a retried or resumed task repeats the step it was in),
and every status change is a conditional write, so a task canceled meanwhile stays
canceled and leaves no result behind.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from faceport import billing
from faceport.engine_protocol import EngineRequest, EngineResult, run_engine
from faceport.errors import FaceportError
from faceport.media import inspect_image
from faceport.ports import BlobStore, Engine, Fetcher, Ledger, TaskStore
from faceport.service import input_key
from faceport.settings import Settings
from faceport.tasks import ACTIVE, MEDIA_TYPES, InputRef, Task, TaskError, TaskStatus, utcnow

logger = logging.getLogger(__name__)

RUNNING = (TaskStatus.RUNNING,)


@dataclass(frozen=True)
class WorkflowDeps:
    settings: Settings
    tasks: TaskStore
    blobs: BlobStore
    fetcher: Fetcher
    ledger: Ledger
    # The in-process engine; None where the engine runs elsewhere (SageMaker).
    engine: Engine | None = None


def result_key(task: Task) -> str:
    return f"results/{task.id}.{task.params.output_format}"


def _running_task(deps: WorkflowDeps, task_id: str) -> Task | None:
    task = deps.tasks.get(task_id)
    return task if task is not None and task.status is TaskStatus.RUNNING else None


def prepare(deps: WorkflowDeps, task_id: str) -> Task | None:
    """Fetch URL inputs into blobs and check them like inline inputs. None: task gone."""
    task = _running_task(deps, task_id)
    if task is None:
        return None
    inputs: dict[str, InputRef] = {}
    for name, ref in task.inputs.items():
        if ref.blob is not None:
            inputs[name] = ref
            continue
        assert ref.url is not None
        data, _claimed_type = deps.fetcher.fetch(ref.url)
        info = inspect_image(
            data,
            max_bytes=deps.settings.max_input_bytes,
            max_pixels=deps.settings.max_input_pixels,
        )
        key = input_key(task.id, name)
        deps.blobs.put(key, data, info.media_type)
        inputs[name] = InputRef(url=ref.url, blob=key)
    return deps.tasks.update_if(task_id, RUNNING, inputs=inputs, progress=25)


@dataclass(frozen=True)
class Output:
    """What a task produced: a stored file, or data that goes on the task itself."""

    result_key: str | None = None
    result_data: dict[str, Any] | None = None


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


def engine_request(deps: WorkflowDeps, task_id: str) -> EngineRequest | None:
    """The engine's work for a prepared task, inputs included. None: task gone."""
    task = _running_task(deps, task_id)
    if task is None:
        return None
    names = ("image",) if task.operation == "face_detect" else ("source", "target")
    return EngineRequest(
        operation=task.operation,
        params=task.params,
        inputs={name: deps.blobs.get(_blob(task, name)) for name in names},
    )


def collect(deps: WorkflowDeps, task_id: str, result: EngineResult) -> Output | None:
    """Store what the engine made: a file as the task's result blob, detection data as is.
    None: task gone."""
    task = _running_task(deps, task_id)
    if task is None:
        return None
    if task.operation == "face_detect":
        return Output(result_data=json.loads(result.body))
    key = result_key(task)
    deps.blobs.put(key, result.body, MEDIA_TYPES[task.params.output_format])
    return Output(result_key=key)


def execute(deps: WorkflowDeps, task_id: str) -> Output | None:
    """Run the in-process engine on the prepared inputs and store what it made (the local
    shape; the state machine dispatches to a remote engine and collects instead)."""
    request = engine_request(deps, task_id)
    if request is None:
        return None
    if deps.engine is None:
        raise FaceportError("No in-process engine is configured.")
    return collect(deps, task_id, run_engine(deps.engine, request))


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
        output = execute(deps, task_id)
        if output is not None:
            finalize(deps, task_id, output)
    except FaceportError as error:
        fail(deps, task_id, error)
    except Exception:
        logger.exception("task %s failed unexpectedly", task_id)
        fail(deps, task_id, FaceportError())


def _blob(task: Task, name: str) -> str:
    key = task.inputs[name].blob
    if key is None:
        raise FaceportError(f"Input {name!r} was not prepared.")
    return key
