"""The ports: what the core needs from the outside world, and nothing about how.

Local adapters (SQLite, files, threads) and AWS adapters (DynamoDB, S3, Step Functions)
implement these; the core and the handlers only ever see the protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from faceport.tasks import OutputFormat, TargetSelection, Task, TaskStatus


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    next_cursor: str | None


class TaskStore(Protocol):
    def create(self, task: Task) -> None:
        """Persist a new task; it exists before anyone is told about it."""

    def get(self, task_id: str) -> Task | None: ...

    def list(
        self, account_id: str, *, status: TaskStatus | None, limit: int, cursor: str | None
    ) -> TaskPage:
        """Tasks of one account, newest first."""

    def update_if(
        self, task_id: str, expected: Collection[TaskStatus], **changes: Any
    ) -> Task | None:
        """Apply `changes` only if the task's status is one of `expected` (a conditional
        write: of two writers racing, one wins). Returns the new task, or None if the
        condition failed."""

    def wait_until_done(self, task_id: str, timeout_s: float) -> Task | None:
        """Block until the task is terminal or the timeout passes; return it as it is then."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at `path` under `key` (large blobs never pass through memory)."""

    def get_file(self, key: str, path: Path) -> None:
        """Write the blob under `key` to the file `path`."""

    def url_for(self, key: str, ttl_s: int) -> str:
        """A download URL for the blob that stops working after `ttl_s` seconds."""


class Orchestrator(Protocol):
    def start(self, task: Task) -> None:
        """Make sure the task's workflow will run (idempotent for the same task)."""

    def cancel(self, task_id: str) -> None:
        """Stop the task's workflow as soon as possible (its status is already `canceled`)."""


class Engine(Protocol):
    """The face work. Every method raises a `FaceportError` (e.g. `NoFaceInSource`) when the
    inputs cannot be worked on."""

    def swap_face(
        self,
        source: bytes,
        target: bytes,
        *,
        target_index: TargetSelection,
        face_map: list[tuple[int, int]] | None,
        output_format: OutputFormat,
    ) -> bytes: ...

    def fuse_faces(
        self, donor: bytes, template: bytes, *, similarity: float, output_format: OutputFormat
    ) -> bytes: ...

    def detect_faces(self, image: bytes) -> list[dict[str, Any]]:
        """Every face, largest first: `index`, `box`, `score`, `landmarks` (JSON-ready)."""

    def swap_face_video(
        self,
        source: bytes,
        video: Path,
        output: Path,
        *,
        target_index: int | Literal["all"],
        reference_face: bytes | None,
        progress: Callable[[float], None],
        should_stop: Callable[[], bool],
    ) -> dict[str, Any]:
        """Swap the source's face into the video file, writing an MP4 to `output`.

        `progress(fraction)` is called as frames are done; when `should_stop()` turns True
        the work stops within a second and raises `TaskCanceled`, leaving no output file.
        Returns a JSON-ready report (frames, swapped frames, seconds).
        """


class Fetcher(Protocol):
    def check(self, url: str) -> None:
        """Raise `UrlNotAllowed` unless the URL may be fetched."""

    def fetch(self, url: str, *, max_bytes: int | None = None) -> tuple[bytes, str | None]:
        """Return the body and the content type the server claimed; `max_bytes` replaces
        the fetcher's own byte cap (videos are allowed more than images)."""
