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
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceport import billing
from faceport.engine_protocol import EngineRequest, EngineResult, run_engine
from faceport.errors import FaceportError, InvalidFaceSelection, OperationNotAvailable
from faceport.media import inspect_image, inspect_video
from faceport.ports import BlobStore, Engine, Fetcher, Ledger, TaskStore
from faceport.service import input_key
from faceport.settings import Settings
from faceport.tasks import (
    ACTIVE,
    MEDIA_TYPES,
    InputRef,
    Task,
    TaskError,
    TaskStatus,
    VideoInfo,
    result_media,
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
    # The in-process engine; None where the engine runs elsewhere (SageMaker).
    engine: Engine | None = None


def result_key(task: Task) -> str:
    return f"results/{task.id}.{result_media(task)[0]}"


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
        limits = deps.settings
        if name == "video":
            data, _claimed_type = deps.fetcher.fetch(ref.url, max_bytes=limits.max_video_bytes)
            media_type = inspect_video(data, max_bytes=limits.max_video_bytes)
        else:
            data, _claimed_type = deps.fetcher.fetch(ref.url)
            media_type = inspect_image(
                data, max_bytes=limits.max_input_bytes, max_pixels=limits.max_input_pixels
            ).media_type
        key = input_key(task.id, name)
        deps.blobs.put(key, data, media_type)
        inputs[name] = InputRef(url=ref.url, blob=key)
    changes: dict[str, Any] = {"inputs": inputs, "progress": 25}
    if task.operation == "video_face_swap":
        video = _probe_video(deps, inputs["video"])
        changes["video"] = video
        # Held for the longest video at submit; from here the price is this video's.
        seconds = video.duration_s
        changes["price"] = min(
            task.price, billing.price_of(deps.settings, task.operation, video_seconds=seconds)
        )
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
    if task.operation == "video_face_swap":
        # Videos run on the in-process engine (`execute`); the SageMaker path takes images.
        raise OperationNotAvailable("Video face swap runs on the local shape only, for now.")
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
    task = _running_task(deps, task_id)
    if task is None:
        return None
    if deps.engine is None:
        raise FaceportError("No in-process engine is configured.")
    if task.operation == "video_face_swap":
        return _execute_video(deps, deps.engine, task)
    request = engine_request(deps, task_id)
    if request is None:
        return None
    return collect(deps, task_id, run_engine(deps.engine, request))


# how often a running video task looks whether it was canceled
CANCEL_POLL_INTERVAL_S = 0.5


def _execute_video(deps: WorkflowDeps, engine: Engine, task: Task) -> Output | None:
    """Swap the face into the video, with progress on the task and a stop on cancel."""
    reference = task.inputs.get("reference_face")
    reference_face = deps.blobs.get(_blob(task, "reference_face")) if reference else None
    source = deps.blobs.get(_blob(task, "source"))
    target = task.params.target_index
    if isinstance(target, list):  # the video API's schema allows one index or "all"
        raise InvalidFaceSelection("A video task takes one target index or 'all'.")
    key = result_key(task)
    with _scratch_dir() as scratch:
        video, output = scratch / "input", scratch / "output.mp4"
        deps.blobs.get_file(_blob(task, "video"), video)
        report = engine.swap_face_video(
            source,
            video,
            output,
            target_index=target,
            reference_face=reference_face,
            progress=_progress_writer(deps, task.id, start=task.progress),
            should_stop=_cancel_poller(deps, task.id),
            enhance=task.params.enhance,
        )
        deps.blobs.put_file(key, output, "video/mp4")
    return Output(result_key=key, result_data={"video": report})


def _progress_writer(deps: WorkflowDeps, task_id: str, *, start: int) -> Callable[[float], None]:
    """Map the engine's fraction done onto start..99 on the task, at most once every
    `progress_interval_s`."""
    interval_s = deps.settings.progress_interval_s
    last = {"at": 0.0, "value": start}

    def write(fraction: float) -> None:
        value = min(99, start + int((99 - start) * fraction))
        now = time.monotonic()
        if value > last["value"] and now - last["at"] >= interval_s:
            last.update(at=now, value=value)
            deps.tasks.update_if(task_id, RUNNING, progress=value)

    return write


def _cancel_poller(deps: WorkflowDeps, task_id: str) -> Callable[[], bool]:
    """True once the task is no longer running (canceled); reads the store twice a second."""
    state = {"at": 0.0, "stop": False}

    def should_stop() -> bool:
        now = time.monotonic()
        if not state["stop"] and now - state["at"] >= CANCEL_POLL_INTERVAL_S:
            state["at"] = now
            current = deps.tasks.get(task_id)
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
