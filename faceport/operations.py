"""The one table of operations: for each, its inputs, the options it takes, its price rule,
what kind of result it makes and which backends can run it.

Everything that differs between operations is read from here (submit, prices, the
workflow's prepare and result steps, the engine wire format, the native task view); a new
operation is one more row. Which backends a deployment has is its runtime's business; the
workflow's `route` matches the two (see docs/ARCHITECTURE.md, "Backend port").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from faceport.settings import Settings
from faceport.tasks import MEDIA_TYPES, Operation, Task

InputKind = Literal["image", "video"]
ResultKind = Literal["image", "video", "data"]
# The kinds of backend the workflow knows how to drive (faceport.backends).
IN_PROCESS = "in_process"
SAGEMAKER_ASYNC = "sagemaker_async"
# External providers' kinds (FACEPORT_PROVIDERS `kind`, faceport/providers/): each runs
# what its seed page offers; `faceport` (another deployment) runs everything.
APIINONE, ZHIQITE, MJPROXY, HEYGEN, AILABTOOLS, FACEPORT = (
    "apiinone",
    "zhiqite",
    "mjproxy",
    "heygen",
    "ailabtools",
    "faceport",
)

# price(settings, video_seconds): video_seconds is None until a video has been probed
PriceRule = Callable[[Settings, float | None], int]


@dataclass(frozen=True)
class InputSpec:
    name: str
    kind: InputKind
    required: bool = True


@dataclass(frozen=True)
class OperationSpec:
    name: Operation
    inputs: tuple[InputSpec, ...]
    # The task options (TaskParams fields) this operation takes, as clients see them.
    options: frozenset[str]
    price: PriceRule
    result: ResultKind
    backends: frozenset[str]

    def input_kind(self, name: str) -> InputKind:
        return next(spec.kind for spec in self.inputs if spec.name == name)


def _video_price(settings: Settings, seconds: float | None) -> int:
    """Per started second with a minimum. Before the probe the hold is for
    `price_video_hold_s`, the longest video accepted; prepare lowers it to the real one."""
    seconds = settings.price_video_hold_s if seconds is None else seconds
    per_second = settings.price_video_per_second * math.ceil(max(seconds, 0.0))
    return max(settings.price_video_minimum, per_second)


_IMAGE_PAIR = (InputSpec("source", "image"), InputSpec("target", "image"))
_ENGINES = frozenset({IN_PROCESS, SAGEMAKER_ASYNC})

OPERATIONS: dict[str, OperationSpec] = {
    spec.name: spec
    for spec in (
        OperationSpec(
            name="face_swap",
            inputs=_IMAGE_PAIR,
            options=frozenset({"target_index", "face_map", "output_format", "enhance"}),
            price=lambda settings, _seconds: settings.price_face_swap,
            result="image",
            backends=_ENGINES | {APIINONE, ZHIQITE, MJPROXY, FACEPORT},
        ),
        OperationSpec(
            name="face_fusion",
            inputs=_IMAGE_PAIR,
            options=frozenset({"similarity", "output_format"}),
            price=lambda settings, _seconds: settings.price_face_fusion,
            result="image",
            backends=_ENGINES | {AILABTOOLS, FACEPORT},
        ),
        OperationSpec(
            name="face_detect",
            inputs=(InputSpec("image", "image"),),
            options=frozenset(),
            price=lambda settings, _seconds: settings.price_face_detect,
            result="data",
            backends=_ENGINES | {FACEPORT},
        ),
        OperationSpec(
            name="video_face_swap",
            inputs=(
                InputSpec("source", "image"),
                InputSpec("video", "video"),
                InputSpec("reference_face", "image", required=False),
            ),
            options=frozenset({"target_index", "enhance"}),
            price=_video_price,
            result="video",
            # On SageMaker the container streams the video from S3 and back itself.
            backends=frozenset({IN_PROCESS, SAGEMAKER_ASYNC, HEYGEN, FACEPORT}),
        ),
    )
}


def spec_of(operation: str) -> OperationSpec:
    return OPERATIONS[operation]


def result_media(task: Task) -> tuple[str, str]:
    """The file extension and media type of a task's result file."""
    if spec_of(task.operation).result == "video":
        return "mp4", "video/mp4"
    return task.params.output_format, MEDIA_TYPES[task.params.output_format]


def result_key(task: Task) -> str:
    """Where a task's result file is stored."""
    return f"results/{task.id}.{result_media(task)[0]}"
