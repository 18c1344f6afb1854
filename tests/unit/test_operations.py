"""The operations table and the routing function that matches it with a deployment's
backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

import pytest

from faceport.backends import Job, Started
from faceport.errors import OperationNotAvailable
from faceport.operations import (
    IN_PROCESS,
    OPERATIONS,
    SAGEMAKER_ASYNC,
    result_key,
    result_media,
    spec_of,
)
from faceport.settings import Settings
from faceport.tasks import Operation, Task, TaskParams
from faceport.workflow import route


@dataclass
class Named:
    kind: str
    name: str = "engine"

    def start(self, job: Job) -> Started:
        raise AssertionError("routing never starts a backend")


def test_every_operation_has_exactly_one_row() -> None:
    assert set(OPERATIONS) == set(get_args(Operation))
    assert all(name == spec.name for name, spec in OPERATIONS.items())


def test_options_are_task_params_and_inputs_are_named_once() -> None:
    for spec in OPERATIONS.values():
        assert spec.options <= set(TaskParams.model_fields)
        names = [i.name for i in spec.inputs]
        assert len(names) == len(set(names))
    assert spec_of("video_face_swap").input_kind("video") == "video"
    assert spec_of("video_face_swap").input_kind("reference_face") == "image"
    assert [i.required for i in spec_of("video_face_swap").inputs] == [True, True, False]


def test_price_rules_read_the_settings() -> None:
    settings = Settings(
        price_face_swap=7,
        price_face_fusion=8,
        price_face_detect=2,
        price_video_per_second=3,
        price_video_minimum=10,
        price_video_hold_s=100,
    )
    prices = {name: spec.price(settings, None) for name, spec in OPERATIONS.items()}
    assert prices == {
        "face_swap": 7,
        "face_fusion": 8,
        "face_detect": 2,
        "video_face_swap": 300,
    }
    assert spec_of("video_face_swap").price(settings, 4.2) == 15


def test_route_takes_the_first_backend_that_can_run_the_operation() -> None:
    local, sagemaker = Named(IN_PROCESS), Named(SAGEMAKER_ASYNC)
    assert route([sagemaker, local], "face_swap", {}) is sagemaker
    assert route([local, sagemaker], "video_face_swap", {}) is local
    assert route([sagemaker, local], "video_face_swap", {}) is sagemaker  # it runs videos too
    with pytest.raises(OperationNotAvailable) as refused:
        route([Named("elsewhere")], "video_face_swap", {})  # a kind the table never lists
    assert 400 <= refused.value.status < 500
    with pytest.raises(OperationNotAvailable):
        route([], "face_detect", {})
    # FACEPORT_ROUTES orders by name; a provider that cannot do the operation is skipped.
    heygen = Named("heygen", name="hg")
    assert route([sagemaker, heygen], "video_face_swap", {"video_face_swap": ["hg"]}) is heygen
    assert route([sagemaker, heygen], "face_swap", {"face_swap": ["hg", "engine"]}) is sagemaker


@pytest.mark.parametrize(
    ("operation", "fmt", "expected"),
    [
        ("face_swap", "jpg", ("jpg", "image/jpeg")),
        ("face_fusion", "webp", ("webp", "image/webp")),
        ("video_face_swap", "png", ("mp4", "video/mp4")),
    ],
)
def test_result_files_follow_the_result_kind(
    operation: Operation, fmt: str, expected: tuple[str, str]
) -> None:
    task = Task(
        id="task_1",
        account_id="acct",
        operation=operation,
        params=TaskParams.model_validate({"output_format": fmt}),
        inputs={},
        created_at=datetime.now(UTC),
    )
    assert result_media(task) == expected
    assert result_key(task) == f"results/task_1.{expected[0]}"
