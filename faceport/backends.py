"""The backend port: "run this prepared task somewhere".

A backend is started with a `Job`. The in-process engine does the work at once and
returns the task's `Output`; the SageMaker async endpoint answers `PENDING` and reports
the outcome later, by calling back (a Step Functions task token in `Job.callback`) so that
the workflow's collect step stores what it made; an external provider
(`faceport.providers`) answers `Waiting`: the workflow polls it (`PolledBackend.poll`)
after the delay, or sooner when the provider calls `Job.callback_url`. Which backends may
run a task, in which order, is decided in one place, `workflow.candidates`, from the
operations table and FACEPORT_ROUTES. See docs/ARCHITECTURE.md, "Backend port".
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from faceport.engine_protocol import EngineRequest, EngineResult, run_engine
from faceport.errors import FaceportError, InvalidFaceSelection
from faceport.operations import IN_PROCESS, result_key, result_media, spec_of
from faceport.ports import BlobStore, Engine
from faceport.provenance import label_mp4
from faceport.settings import ENGINE
from faceport.tasks import Task


@dataclass(frozen=True)
class Output:
    """What a task produced: a stored file, or data that goes on the task itself."""

    result_key: str | None = None
    result_data: dict[str, Any] | None = None
    remote_id: str | None = None  # a synchronous provider's own id for the call


@dataclass(frozen=True)
class Job:
    """A prepared (running) task to run, with what a backend may need on the way."""

    task: Task
    blobs: BlobStore
    progress: Callable[[float], None]  # fraction done, 0..1
    should_stop: Callable[[], bool]  # True once the task was canceled
    callback: str | None = None  # where a remote backend reports (a task token)
    # Where an external provider may call back (faceport's callback route, per-task token).
    callback_url: str | None = None


class Pending:
    """The backend took the job; its outcome comes later, through `Job.callback`."""


PENDING: Final = Pending()


@dataclass(frozen=True)
class Waiting(Pending):
    """An external provider took the job as `remote_id`: poll it after `poll_in_s` (or
    when its callback arrives)."""

    remote_id: str
    poll_in_s: float
    callback: bool = False  # the provider calls back: polls are a fallback


# Output: done now; PENDING / Waiting: reported later; None: the task is no longer running.
Started = Output | Pending | None

# The name FACEPORT_ROUTES gives the deployment's own engine.
ENGINE_NAME: Final = ENGINE


class Backend(Protocol):
    # "engine" or the provider's name in FACEPORT_PROVIDERS (what FACEPORT_ROUTES lists).
    name: str
    # One of the backend kinds of the operations table (`operations.IN_PROCESS`, ...).
    kind: str

    def start(self, job: Job) -> Started:
        """Run or start the job's work; a `FaceportError` ends the task failed, except
        `ProviderRefused`: nothing was started, the next backend may take it."""


@runtime_checkable
class PolledBackend(Backend, Protocol):
    """A backend whose work is looked at later (an external provider)."""

    poll_interval_s: float
    timeout_s: float
    cost: float  # what one call costs the operator (recorded on the task)

    def poll(self, job: Job, remote_id: str) -> Output | Waiting:
        """The job's result once the provider is done (stored, labelled), else `Waiting`;
        a `FaceportError` when the provider failed it."""

    def cancel(self, remote_id: str) -> None:
        """Stop the work at the provider where it can be stopped (best effort)."""


def input_blob(task: Task, name: str) -> str:
    key = task.inputs[name].blob
    if key is None:
        raise FaceportError(f"Input {name!r} was not prepared.")
    return key


def engine_request(task: Task, blobs: BlobStore) -> EngineRequest:
    """The engine's work for a prepared task: an image task's inputs inline, a video task
    by its id (the engine reads and writes its files itself)."""
    if spec_of(task.operation).result == "video":
        return EngineRequest(
            operation=task.operation, params=task.params, inputs={}, task_id=task.id
        )
    names = [spec.name for spec in spec_of(task.operation).inputs if spec.name in task.inputs]
    return EngineRequest(
        operation=task.operation,
        params=task.params,
        inputs={name: blobs.get(input_blob(task, name)) for name in names},
    )


def store_result(blobs: BlobStore, task: Task, result: EngineResult) -> Output:
    """Keep what the engine made: a file as the task's result blob, data as is; a video
    engine elsewhere stored its file itself and answers with the `Output` (`output_body`)."""
    kind = spec_of(task.operation).result
    if kind == "data":
        return Output(result_data=json.loads(result.body))
    if kind == "video":
        return Output(**json.loads(result.body))
    key = result_key(task)
    blobs.put(key, result.body, result_media(task)[1])
    return Output(result_key=key)


class InProcessBackend:
    """The engine in this process (the local shape): the work is done inside `start`."""

    kind = IN_PROCESS
    name = ENGINE_NAME

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(self, job: Job) -> Output:
        task = job.task
        if spec_of(task.operation).result == "video":
            return self._swap_video(job)
        result = run_engine(self._engine, engine_request(task, job.blobs))
        return store_result(job.blobs, task, result)

    def _swap_video(self, job: Job) -> Output:
        """Swap the face into the video, with progress on the task and a stop on cancel."""
        task, blobs = job.task, job.blobs
        reference = task.inputs.get("reference_face")
        reference_face = blobs.get(input_blob(task, "reference_face")) if reference else None
        target = task.params.target_index
        if isinstance(target, list):  # the video API's schema allows one index or "all"
            raise InvalidFaceSelection("A video task takes one target index or 'all'.")
        key = result_key(task)
        with tempfile.TemporaryDirectory(prefix="faceport-") as name:
            video, output = Path(name) / "input", Path(name) / "output.mp4"
            blobs.get_file(input_blob(task, "video"), video)
            report = self._engine.swap_face_video(
                blobs.get(input_blob(task, "source")),
                video,
                output,
                target_index=target,
                reference_face=reference_face,
                progress=job.progress,
                should_stop=job.should_stop,
                enhance=task.params.enhance,
            )
            label_mp4(output)  # the synthetic-media label, as images carry it
            blobs.put_file(key, output, "video/mp4")
        return Output(result_key=key, result_data={"video": report})


def output_body(output: Output | None) -> bytes:
    """A remote engine's answer for a task it ran against storage (`store_result` reads
    it): the `Output` as JSON, empty when the task was no longer running."""
    return json.dumps(asdict(output) if output else {}).encode()
