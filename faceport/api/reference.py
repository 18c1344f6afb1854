"""What the generated OpenAPI document lacks, added to it: an introduction, the package's
version, request examples that run offline (small inline images, see `example_media`),
the `Prefer` and `X-Request-Id` request headers, the response headers (`X-Request-Id`,
`RateLimit-*`, `Retry-After`, `Location`, `Preference-Applied`), readable operation ids,
and for every route the error codes it can answer with, and for task routes the codes a
failed task can carry. Both `/openapi.json` and `/docs` show the completed document."""

from __future__ import annotations

from collections import defaultdict
from importlib.metadata import version
from typing import Any

from faceport import errors as e
from faceport.api import example_media as media

INTRO = """\
faceport swaps, fuses and detects faces in photos and videos.

**Auth.** Every `/v1` route needs an API key: `Authorization: Bearer fpk_...` (or
`X-Api-Key: fpk_...`). An operator makes keys with `faceport admin create-account NAME`
or `faceport admin issue-key ACCOUNT`; `faceport serve --dev` prints a development key.
Use **Authorize** above, then **Try it out**: every example runs as it is.

**Tasks.** A submit (`/v1/face-swap`, `/v1/face-fusion`, `/v1/video-face-swap`) answers
`202` with a task at once; poll `GET /v1/tasks/{id}` until `status` is `succeeded`,
`failed` (with a stable `error.code`) or `canceled`, or send `Prefer: wait=N` (or a bare
`Prefer: wait`, up to the server's cap) to get the finished task inline (`200`). A task is
charged only if it succeeds. `Idempotency-Key` makes a submit safe to retry.

**Webhooks.** Add `notify_url` to a submit: when the task ends, a signed
`task.succeeded | task.failed | task.canceled` event (Standard Webhooks) is POSTed there.
Verify it with a secret from `GET /v1/webhooks/secret`.

**Errors.** Every error is `{"error": {"code", "message"}}`; each route lists its codes.
Every answer carries `X-Request-Id` (yours, if you sent one) and, for a request with a
valid key, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
"""

_IMAGE_A = {"base64": f"data:image/jpeg;base64,{media.ASTRONAUT_JPEG_B64}"}
_IMAGE_B = {"base64": media.HOPPER_JPEG_B64}
_CLIP = {"base64": media.HOPPER_CLIP_MP4_B64}

EXAMPLES: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("post", "/v1/face-swap"): {
        "swap": {
            "summary": "Put the astronaut's face on Grace Hopper (inline images)",
            "value": {"source": _IMAGE_A, "target": _IMAGE_B, "output_format": "jpg"},
        },
        "face_map": {
            "summary": "Choose faces explicitly, with your own metadata",
            "value": {
                "source": _IMAGE_B,
                "target": _IMAGE_A,
                "face_map": [{"source_index": 0, "target_index": 0}],
                "output_format": "webp",
                "metadata": {"order": "A-1001"},
            },
        },
    },
    ("post", "/v1/face-fusion"): {
        "fusion": {
            "summary": "Halfway between the two faces",
            "value": {"source": _IMAGE_A, "target": _IMAGE_B, "similarity": 0.5},
        }
    },
    ("post", "/v1/video-face-swap"): {
        "video": {
            "summary": "A one-second clip (inline MP4)",
            "value": {"source": _IMAGE_A, "video": _CLIP, "target_index": 0},
        },
        "reference_face": {
            "summary": "Only the faces of one person",
            "value": {"source": _IMAGE_A, "video": _CLIP, "reference_face": _IMAGE_B},
        },
    },
    ("post", "/v1/face-detect"): {
        "detect": {"summary": "Find the faces of a photo", "value": {"image": _IMAGE_B}}
    },
    ("post", "/v1/webhooks/secret/rotate"): {
        "rotate": {
            "summary": "Old secrets keep signing for an hour",
            "value": {"grace_period_s": 3600},
        }
    },
}

_AUTH: list[type[e.FaceportError]] = [
    e.MissingApiKey,
    e.InvalidApiKey,
    e.RevokedApiKey,
    e.RateLimited,
    e.FaceportError,
]
_BODY = [e.InvalidJson, e.ValidationFailed, e.UnsupportedContentType, e.LengthRequired]
_SUBMIT = [
    *_BODY,
    e.InvalidBase64,
    e.UnsupportedMedia,
    e.InputTooLarge,
    e.ImageTooLarge,
    e.UrlNotAllowed,
    e.NotifyUrlNotAllowed,
    e.InvalidIdempotencyKey,
    e.IdempotencyKeyReused,
    e.IdempotencyKeyInProgress,
    e.InsufficientCredits,
    e.TooManyConcurrentTasks,
]
_TASK_FAILURES = [
    e.UrlFetchFailed,
    e.UnsupportedMedia,
    e.InputTooLarge,
    e.ImageTooLarge,
    e.UnreadableImage,
    e.EngineTimeout,
    e.EngineFailed,
    e.WorkerLost,
]
_IMAGE_FAILURES = [e.NoFaceInSource, e.NoFaceInTarget, e.TargetIndexOutOfRange]
_IMAGE_FAILURES += [e.SourceIndexOutOfRange, e.InvalidFaceSelection]
_VIDEO_FAILURES = [e.NoFaceInSource, e.NoFaceInReference, e.UnreadableVideo, e.VideoTooLong]
_VIDEO_FAILURES += [e.VideoResolutionTooHigh]

# (method, path) -> (operation id, codes the route answers with, codes a failed task carries)
ROUTES: dict[
    tuple[str, str], tuple[str, list[type[e.FaceportError]], list[type[e.FaceportError]]]
] = {
    ("post", "/v1/face-swap"): ("faceSwap", _SUBMIT, _TASK_FAILURES + _IMAGE_FAILURES),
    ("post", "/v1/face-fusion"): ("faceFusion", _SUBMIT, _TASK_FAILURES + _IMAGE_FAILURES),
    ("post", "/v1/video-face-swap"): ("videoFaceSwap", _SUBMIT, _TASK_FAILURES + _VIDEO_FAILURES),
    ("post", "/v1/face-detect"): ("faceDetect", _SUBMIT, _TASK_FAILURES),
    ("get", "/v1/tasks/{task_id}"): ("getTask", [e.NotFound], []),
    ("get", "/v1/tasks"): ("listTasks", [e.ValidationFailed], []),
    ("post", "/v1/tasks/{task_id}/cancel"): ("cancelTask", [e.NotFound, e.TaskNotCancelable], []),
    ("get", "/v1/tasks/{task_id}/deliveries"): ("listDeliveries", [e.NotFound], []),
    ("post", "/v1/tasks/{task_id}/deliveries/redeliver"): (
        "redeliver",
        [e.NotFound, e.NothingToRedeliver],
        [],
    ),
    ("get", "/v1/webhooks/secret"): ("getWebhookSecrets", [], []),
    ("post", "/v1/webhooks/secret/rotate"): ("rotateWebhookSecret", _BODY, []),
    ("get", "/v1/account"): ("getAccount", [e.AccountNotFound], []),
}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "This request's id (the one you sent, if sane); also in the server's logs.",
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {
        "description": "Requests this key may make at once (the bucket's size).",
        "schema": {"type": "integer"},
    },
    "RateLimit-Remaining": {
        "description": "Requests left before a 429.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the full limit is available again.",
        "schema": {"type": "integer"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    },
    "Location": {"description": "The task's URL.", "schema": {"type": "string"}},
    "Preference-Applied": {
        "description": "The `Prefer: wait=N` that was honoured (capped).",
        "schema": {"type": "string"},
    },
}
_PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": (
        "`wait=N`: hold the answer up to N seconds (capped by the server) and return the "
        "finished task (200) if it ends by then; a bare `wait` waits as long as allowed."
    ),
    "schema": {"type": "string"},
    "example": "wait=30",
}
_REQUEST_ID = {
    "name": "X-Request-Id",
    "in": "header",
    "required": False,
    "description": "Your id for this request (1-128 of A-Z a-z 0-9 . _ : @ / + = -), echoed back.",
    "schema": {"type": "string"},
}


def complete(spec: dict[str, Any]) -> dict[str, Any]:
    """The generated OpenAPI document (as a dict), completed as this module says."""
    spec["info"] |= {"version": version("faceport"), "description": INTRO}
    spec.setdefault("components", {})["headers"] = HEADERS
    for (method, path), (operation_id, codes, failures) in ROUTES.items():
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            continue
        operation["operationId"] = operation_id
        submits = method == "post" and path in _SUBMIT_PATHS
        _parameters(operation, submits=submits)
        _responses(operation, codes, submits=submits)
        if failures:
            operation["description"] = (
                operation.get("description", "")
                + "\n\nA failed task's `error.code`: "
                + _codes(failures)
            )
        examples = EXAMPLES.get((method, path))
        if examples:
            operation["requestBody"]["content"]["application/json"]["examples"] = examples
    return spec


_SUBMIT_PATHS = {"/v1/face-swap", "/v1/face-fusion", "/v1/video-face-swap"}


def _parameters(operation: dict[str, Any], *, submits: bool) -> None:
    parameters = [
        p
        for p in operation.get("parameters", [])
        if p["in"] != "header" or p["name"].lower() == "idempotency-key"
    ]
    for parameter in parameters:
        if parameter["name"].lower() == "idempotency-key":
            parameter["name"] = "Idempotency-Key"
    if submits:
        parameters.append(_PREFER)
    parameters.append(_REQUEST_ID)
    operation["parameters"] = parameters


def _responses(
    operation: dict[str, Any], codes: list[type[e.FaceportError]], *, submits: bool
) -> None:
    """Replace the generic error entries with this route's codes, grouped by status."""
    responses = {str(k): v for k, v in operation["responses"].items() if int(k) < 400}
    by_status: dict[int, list[type[e.FaceportError]]] = defaultdict(list)
    every: list[type[e.FaceportError]] = [*codes, *_AUTH]
    for error in every:
        if error not in by_status[error.status]:
            by_status[error.status].append(error)
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for code, group in sorted(by_status.items()):
        responses[str(code)] = {"description": _codes(group), "content": error_body}
    for status, response in responses.items():
        names = ["X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
        if status == "429":
            names.append("Retry-After")
        if submits and status in ("200", "202"):
            names += ["Location", "Preference-Applied"]
        response["headers"] = {n: {"$ref": f"#/components/headers/{n}"} for n in names}
    operation["responses"] = responses


def _codes(errors: list[type[e.FaceportError]]) -> str:
    return "; ".join(f"`{error.code}`: {error.default_message}" for error in errors)
