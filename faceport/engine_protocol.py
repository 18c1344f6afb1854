"""What goes over the wire between the workflow and an engine that runs elsewhere.

The SageMaker container (`faceport engine-serve`) takes one `EngineRequest` as JSON on
`POST /invocations` and answers with the result: the image bytes, or JSON for a detection.
A `FaceportError` is answered with its HTTP status and `{"error": {"code", "message"}}`,
so the task ends `failed` with the same code as it would in-process.

Pure Python: the API and workflow Lambdas import this, never the engine itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from faceport.errors import EngineFailed, FaceportError, error_for_code
from faceport.ports import Engine
from faceport.tasks import MEDIA_TYPES, Operation, TaskParams

JSON = "application/json"


class EngineRequest(BaseModel):
    """One piece of face work: an image operation with its inputs inline (base64 in JSON),
    so the engine needs no storage of its own; or, with `task_id`, a video task the
    container runs against the task's own storage (the video streamed from S3 to disk and
    the result back, progress and heartbeats on the way: `adapters/aws/engine_container`).
    The request then stays a few hundred bytes, whatever the video's size."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    operation: Operation
    params: TaskParams
    inputs: dict[str, bytes]
    task_id: str | None = None


@dataclass(frozen=True)
class EngineResult:
    """What the engine made: a file (`content_type` of the output format) or JSON."""

    content_type: str
    body: bytes


def run_engine(engine: Engine, request: EngineRequest) -> EngineResult:
    """Do the request's work on `engine`; a `FaceportError` from the engine passes through."""
    return _RUNNERS[request.operation](engine, request)


def _detect(engine: Engine, request: EngineRequest) -> EngineResult:
    faces = engine.detect_faces(request.inputs["image"])
    return EngineResult(JSON, json.dumps({"faces": faces}).encode())


def _fuse(engine: Engine, request: EngineRequest) -> EngineResult:
    params, inputs = request.params, request.inputs
    assert params.similarity is not None
    image = engine.fuse_faces(
        inputs["source"],
        inputs["target"],
        similarity=params.similarity,
        output_format=params.output_format,
    )
    return EngineResult(MEDIA_TYPES[params.output_format], image)


def _swap(engine: Engine, request: EngineRequest) -> EngineResult:
    params, inputs = request.params, request.inputs
    face_map = [(m.source_index, m.target_index) for m in params.face_map or []]
    image = engine.swap_face(
        inputs["source"],
        inputs["target"],
        target_index=params.target_index,
        face_map=face_map or None,
        output_format=params.output_format,
        enhance=params.enhance,
    )
    return EngineResult(MEDIA_TYPES[params.output_format], image)


# The image operations an engine runs from one request (a video needs files and progress:
# faceport.backends.InProcessBackend).
_RUNNERS: dict[str, Callable[[Engine, EngineRequest], EngineResult]] = {
    "face_swap": _swap,
    "face_fusion": _fuse,
    "face_detect": _detect,
}


def error_document(error: FaceportError) -> bytes:
    """The body an engine answers a failed request with."""
    return json.dumps({"error": {"code": error.code, "message": error.message}}).encode()


def error_from_document(body: bytes | str) -> FaceportError:
    """The `FaceportError` an engine's error body stands for (same class when the code is
    one of ours); `EngineFailed` when the body is not such a document."""
    try:
        error = json.loads(body)["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return EngineFailed()
    return error_for_code(code, message)
