"""The workflow steps of a task: plain functions that the local worker pool runs in order
and that the AWS state machine calls one by one (begin, prepare, start on the backend that
`route` picks, collect what a remote backend made, finalize; fail on any error).

Every step is safe to run again (a retried or resumed task repeats the step it was in),
and every status change is a conditional write, so a task canceled meanwhile stays
canceled and leaves no result behind.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from faceport import billing
from faceport.backends import (
    ENGINE_NAME,
    Backend,
    Job,
    Output,
    Pending,
    PolledBackend,
    Started,
    Waiting,
)
from faceport.backends import store_result as _store_result
from faceport.engine_protocol import EngineResult
from faceport.errors import (
    FaceportError,
    OperationNotAvailable,
    ProviderRefused,
    ProviderTimeout,
)
from faceport.inputs import byte_cap, store_input
from faceport.operations import spec_of
from faceport.ports import BlobStore, Fetcher, Ledger, TaskStore
from faceport.settings import PROVIDER_CALLBACK_PATH, Settings
from faceport.tasks import (
    ACTIVE,
    BackendRef,
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


class EngineNext(Pending):
    """The provider branch's answer when the next backend to try is the engine."""


ENGINE_NEXT = EngineNext()


@dataclass(frozen=True)
class WorkflowDeps:
    settings: Settings
    tasks: TaskStore
    blobs: BlobStore
    fetcher: Fetcher
    ledger: Ledger
    # Where tasks run, in order of preference (`route` picks one per task).
    backends: tuple[Backend, ...] = ()


def candidates(
    backends: Sequence[Backend], operation: Operation, routes: Mapping[Operation, Sequence[str]]
) -> list[Backend]:
    """The backends that may run `operation`, in the order they are tried: the names
    FACEPORT_ROUTES lists for it, else the deployment's engine; only those whose kind the
    operations table lists for the operation. The next one is tried only when the one
    before refused the work before starting it (`ProviderRefused`), see `start`."""
    able = spec_of(operation).backends
    names = routes.get(operation, [ENGINE_NAME])
    return [b for name in names for b in backends if b.name == name and b.kind in able]


def route(
    backends: Sequence[Backend], operation: Operation, routes: Mapping[Operation, Sequence[str]]
) -> Backend:
    """The first backend to try for `operation`. Raises `OperationNotAvailable` (a 4xx)
    when none can run it: the API calls this at submit, so such a task is refused before
    anything is held."""
    able = candidates(backends, operation, routes)
    if not able:
        raise OperationNotAvailable(f"This deployment has no backend that runs {operation}.")
    return able[0]


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
    first = candidates(deps.backends, task.operation, deps.settings.routes)[:1]
    if first and not first_is_provider(deps, task):
        changes["backend"] = BackendRef(name=first[0].name)
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


def start(
    deps: WorkflowDeps,
    task_id: str,
    *,
    callback: str | None = None,
    branch: Literal["provider", "engine"] | None = None,
) -> Started:
    """Run the prepared task on the first of its `candidates` that takes it: its `Output`
    when the backend did the work at once (in-process, a synchronous provider), `PENDING`
    when it reports later through `callback` (SageMaker; the state machine's dispatch
    step), `Waiting` when an external provider took it, None when the task is gone. A
    provider that refuses before starting passes the task to the next candidate; any other
    error ends the task. The state machine runs the two kinds in their own steps: its
    provider `branch` stops at the engine and answers `ENGINE_NEXT`, its engine `branch`
    (Dispatch) skips the providers."""
    task = _running_task(deps, task_id)
    if task is None:
        return None
    if task.at_provider and task.backend and task.backend.task_id:
        # A step run again after the provider took the task: never submit twice; poll.
        return Waiting(task.backend.task_id, 0.0)
    refusal: ProviderRefused | None = None
    for backend in candidates(deps.backends, task.operation, deps.settings.routes):
        provider = isinstance(backend, PolledBackend)
        if branch == "provider" and not provider:
            return ENGINE_NEXT
        if branch == "engine" and provider:
            continue
        try:
            return _start_on(deps, task_id, backend, callback)
        except ProviderRefused as refused:
            logger.info("task %s: %s refused it: %s", task_id, backend.name, refused.message)
            refusal = refused
    raise refusal or OperationNotAvailable()


def _start_on(deps: WorkflowDeps, task_id: str, backend: Backend, callback: str | None) -> Started:
    """Start the task on one backend, with the backend recorded on the task first (and,
    for a provider, the hash of a fresh callback token, which must be in place before the
    provider can call back)."""
    token = secrets.token_urlsafe(32) if isinstance(backend, PolledBackend) else None
    ref = BackendRef(name=backend.name, callback_sha256=token and _sha256(token))
    task = _running_task(deps, task_id)
    if task is not None and task.backend != ref:  # `prepare` names the first engine
        task = deps.tasks.update_if(task_id, RUNNING, backend=ref)
    if task is None:
        return None
    job = job_of(
        task,
        deps.tasks,
        deps.blobs,
        deps.settings,
        callback=callback,
        callback_url=token and callback_url(deps.settings, task_id, token),
    )
    started = backend.start(job)
    if isinstance(backend, PolledBackend):
        taken = ref.model_copy(
            update={
                "task_id": started.remote_id if isinstance(started, Waiting | Output) else None,
                "cost": backend.cost,
                "submitted_at": utcnow(),
            }
        )
        if deps.tasks.update_if(task_id, RUNNING, backend=taken) is None:
            if isinstance(started, Waiting):  # canceled while it was being submitted
                backend.cancel(started.remote_id)
            return None
    return started


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def callback_url(settings: Settings, task_id: str, token: str) -> str:
    """Where a provider calls back for the task: faceport's callback route, with the
    task's unguessable token (only its hash is stored)."""
    return f"{settings.base_url}{PROVIDER_CALLBACK_PATH}?task={task_id}&token={token}"


def callback_is_genuine(task: Task | None, token: str) -> bool:
    """Whether `token` is the one this task's provider was given."""
    expected = task.backend.callback_sha256 if task and task.backend else None
    return expected is not None and hmac.compare_digest(expected, _sha256(token))


def _provider_of(backends: Sequence[Backend], task: Task) -> PolledBackend | None:
    name = task.backend.name if task.backend else None
    found = next((b for b in backends if b.name == name), None)
    return found if isinstance(found, PolledBackend) else None


def poll(deps: WorkflowDeps, task_id: str) -> Output | Waiting | None:
    """Look at a task waiting at its provider: its stored `Output` when done, `Waiting`
    while it runs (a `FaceportError` when it failed, `ProviderTimeout` once its
    `timeout_s` passed, after a cancel at the provider), None when the task is gone."""
    task = _running_task(deps, task_id)
    backend = _provider_of(deps.backends, task) if task is not None else None
    if task is None or backend is None or task.backend is None or task.backend.task_id is None:
        return None
    remote_id, submitted = task.backend.task_id, task.backend.submitted_at or task.created_at
    job = job_of(task, deps.tasks, deps.blobs, deps.settings)
    outcome = backend.poll(job, remote_id)
    if isinstance(outcome, Waiting):
        left_s = backend.timeout_s - (utcnow() - submitted).total_seconds()
        if left_s <= 0:
            backend.cancel(remote_id)
            raise ProviderTimeout(f"{backend.name} did not finish in {backend.timeout_s:g} s.")
        return Waiting(remote_id, min(outcome.poll_in_s, left_s), outcome.callback)
    return outcome


def first_is_provider(deps: WorkflowDeps, task: Task) -> bool:
    """Whether the task's first backend to try is an external provider (the state
    machine's routing Choice: the provider branch, else Dispatch to the engine)."""
    first = candidates(deps.backends, task.operation, deps.settings.routes)[:1]
    return bool(first) and isinstance(first[0], PolledBackend)


def cancel_at_provider(backends: Sequence[Backend], task: Task) -> None:
    """Stop a canceled task's work at its provider, where the provider can."""
    backend = _provider_of(backends, task)
    if backend is not None and task.backend is not None and task.backend.task_id is not None:
        backend.cancel(task.backend.task_id)


def job_of(
    task: Task,
    tasks: TaskStore,
    blobs: BlobStore,
    settings: Settings,
    *,
    callback: str | None = None,
    callback_url: str | None = None,
) -> Job:
    """A running task as a backend's `Job`: progress written to the task, a stop once it
    is canceled (also the SageMaker container's, for a video)."""
    return Job(
        task=task,
        blobs=blobs,
        progress=_progress_writer(tasks, settings, task.id, start=task.progress),
        should_stop=_cancel_poller(tasks, task.id),
        callback=callback,
        callback_url=callback_url,
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


def run_task(deps: WorkflowDeps, task_id: str) -> float | None:
    """The steps in order, as the local worker pool runs them: prepare and start, or for a
    task waiting at its provider, poll. Returns the seconds until the task wants to be
    polled again (it waits at a provider), else None. Never raises."""
    try:
        task = deps.tasks.get(task_id)
        output: Started
        if task is not None and task.at_provider:
            output = poll(deps, task_id)
        elif prepare(deps, task_id) is None:
            return None
        else:
            output = start(deps, task_id)
        if isinstance(output, Waiting):
            return output.poll_in_s
        if isinstance(output, Output):
            finalize(deps, task_id, output)
    except FaceportError as error:
        fail(deps, task_id, error)
    except Exception:
        logger.exception("task %s failed unexpectedly", task_id)
        fail(deps, task_id, FaceportError())
    return None
