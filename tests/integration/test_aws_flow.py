"""The real ASL file executed by moto's Step Functions interpreter: our workflow Lambda and
engine-callback Lambda run in-process, and a fake SageMaker async endpoint posts each
request to the real serving contract (`faceport.engine_serving`) over loopback HTTP.

The first test runs the real face engine behind it; the others use FakeEngine (the flow,
not the pixels, is what they check, and the real engine's model load costs seconds).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from PIL import Image

from faceport import service
from faceport.adapters.local.engine import InProcessEngine
from faceport.api.native import views
from faceport.api.native.schemas import (
    FaceDetectRequest,
    FaceSwapRequest,
    VideoFaceSwapRequest,
)
from faceport.tasks import Task, TaskStatus
from tests.conftest import b64
from tests.support.aws import REGION, AwsWorld, aws_world
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.identity import SAME_PERSON_THRESHOLD, identity_distance
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg
from tests.support.tiny import tiny_image
from tests.support.video import ClipSpec, decoded_frames, write_clip

IMG = tiny_image("PNG")


def submit_swap(world: AwsWorld, source: bytes = IMG, target: bytes = IMG, **options: Any) -> Task:
    request = FaceSwapRequest.model_validate(
        {"source": {"base64": b64(source)}, "target": {"base64": b64(target)}, **options}
    )
    return views.submit_face_swap(world.runtime.services, world.funded_caller(), request)


def finished(world: AwsWorld, task: Task) -> tuple[Task, dict[str, Any]]:
    execution = world.wait_for_execution(task.id)
    done = world.runtime.services.tasks.get(task.id)
    assert done is not None
    return done, execution


def states_entered(world: AwsWorld, execution: dict[str, Any]) -> list[str]:
    history = world.sfn.get_execution_history(executionArn=execution["executionArn"])
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in history["events"]
        if "stateEnteredEventDetails" in event
    ]


@pytest.fixture
def fake_world(monkeypatch: pytest.MonkeyPatch, fake_engine: FakeEngine) -> Iterator[AwsWorld]:
    with aws_world(monkeypatch, fake_engine, heartbeat_s=1) as world:
        yield world


def test_a_real_swap_succeeds_end_to_end_with_its_result_in_s3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, target = astronaut_jpeg(), grace_hopper_jpeg()
    with aws_world(monkeypatch, InProcessEngine()) as world:
        task = submit_swap(world, source, target, output_format="jpg")
        done, execution = finished(world, task)
        assert (done.status, execution["status"]) == (TaskStatus.SUCCEEDED, "SUCCEEDED")
        assert done.result_key == f"results/{task.id}.jpg"
        s3 = boto3.client("s3", region_name=REGION)
        stored = s3.get_object(Bucket="faceport-results", Key=done.result_key)
        assert stored["ContentType"] == "image/jpeg"
        result = stored["Body"].read()
        view = views.task_view(world.runtime.services, done)
        assert view.result is not None and "X-Amz-Signature" in view.result.url
        assert states_entered(world, execution) == [
            "Prepare", "StillWanted", "ChooseBackend", "Dispatch", "Collect", "Finalize", "Done"
        ]  # fmt: skip
    assert Image.open(io.BytesIO(result)).size == Image.open(io.BytesIO(target)).size
    # The astronaut's face is now on Grace Hopper's photo.
    assert identity_distance(result, source) < SAME_PERSON_THRESHOLD
    assert identity_distance(result, source) < identity_distance(result, target)


def test_detection_data_goes_on_the_task(fake_world: AwsWorld) -> None:
    request = FaceDetectRequest.model_validate({"image": {"base64": b64(IMG)}})
    task = views.submit_face_detect(
        fake_world.runtime.services, fake_world.funded_caller(), request
    )
    done, _ = finished(fake_world, task)
    assert done.status is TaskStatus.SUCCEEDED
    assert done.result_key is None
    assert done.result_data is not None and done.result_data["faces"][0]["score"] == 0.9


def test_an_engine_error_fails_the_task_with_its_code(fake_world: AwsWorld) -> None:
    task = submit_swap(fake_world, source=IMG + NO_FACE_MARKER)
    done, execution = finished(fake_world, task)
    assert done.status is TaskStatus.FAILED
    assert done.error is not None and done.error.code == "no_face_in_source"
    # A task that failed on its inputs is a normal end of the execution, not an alarm.
    assert execution["status"] == "SUCCEEDED"
    assert states_entered(fake_world, execution)[-3:] == ["MarkFailed", "FailedHow", "Done"]
    # The engine's error body went to the failure location, as SageMaker keeps it.
    s3 = boto3.client("s3", region_name=REGION)
    failures = s3.list_objects_v2(Bucket="faceport-results", Prefix="engine/failures/")
    body = s3.get_object(Bucket="faceport-results", Key=failures["Contents"][0]["Key"])["Body"]
    assert json.loads(body.read())["error"]["code"] == "no_face_in_source"


def test_an_engine_that_never_answers_fails_the_task_on_heartbeat_timeout(
    fake_world: AwsWorld,
) -> None:
    fake_world.endpoint.silent = True
    task = submit_swap(fake_world)
    done, execution = finished(fake_world, task)
    assert done.status is TaskStatus.FAILED
    assert done.error is not None and done.error.code == "engine_timeout"
    assert execution["status"] == "SUCCEEDED"


def test_heartbeats_keep_a_slow_engine_call_alive(
    fake_world: AwsWorld, fake_engine: FakeEngine
) -> None:
    fake_engine.delay_s = 2.5  # longer than the 1 s heartbeat timeout
    fake_world.endpoint.heartbeat = fake_world.runtime.engine.heartbeat
    done, _ = finished(fake_world, submit_swap(fake_world))
    assert done.status is TaskStatus.SUCCEEDED, done.error


def test_cancel_stops_the_execution_and_leaves_the_task_canceled(
    fake_world: AwsWorld, fake_engine: FakeEngine
) -> None:
    import threading

    fake_engine.gate = threading.Event()
    task = submit_swap(fake_world)
    assert fake_engine.entered.wait(10)
    service.cancel_task(fake_world.runtime.services, task.account_id, task.id)
    execution = fake_world.wait_for_execution(task.id)
    fake_engine.gate.set()  # the engine finishes anyway; nobody is waiting for it
    for thread in fake_world.endpoint.threads:
        thread.join(10)
    done = fake_world.runtime.services.tasks.get(task.id)
    assert done is not None and done.status is TaskStatus.CANCELED
    assert done.result_key is None
    # AWS reports a stopped execution ABORTED at once; moto notices the stop only when the
    # waiting step's heartbeat runs out and then reports FAILED. Either way the Catch did
    # not run: nothing overwrote the cancel.
    assert execution["status"] in ("ABORTED", "FAILED")
    assert "MarkFailed" not in states_entered(fake_world, execution)


def test_a_throttled_engine_call_is_retried(fake_world: AwsWorld) -> None:
    fake_world.endpoint.throttle_next = 1
    task = submit_swap(fake_world)
    done, execution = finished(fake_world, task)
    assert done.status is TaskStatus.SUCCEEDED
    assert fake_world.endpoint.calls == [task.id]  # one accepted call after one refusal
    assert states_entered(fake_world, execution).count("Dispatch") == 1  # retried in place
    history = fake_world.sfn.get_execution_history(executionArn=execution["executionArn"])
    failed = [e for e in history["events"] if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["TransientError"]


def test_starting_a_task_twice_runs_it_once(fake_world: AwsWorld, fake_engine: FakeEngine) -> None:
    task = submit_swap(fake_world)
    fake_world.runtime.services.orchestrator.start(task)  # a duplicate start is harmless
    done, _ = finished(fake_world, task)
    assert done.status is TaskStatus.SUCCEEDED
    assert fake_engine.calls == 1


def test_a_video_task_runs_end_to_end_with_progress_and_heartbeats(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The real engine behind the fake endpoint, on a short clip; the heartbeat timeout (3 s,
    # 1 s was too tight for moto on a loaded machine) is what the container's heartbeats,
    # three per timeout, keep renewing.
    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frames=48, audio=False)).read_bytes()
    with aws_world(monkeypatch, InProcessEngine(), heartbeat_s=3, timeout_s=120) as world:
        beats: list[str] = []
        world.container_clients.stepfunctions.meta.events.register(
            "before-call.sfn.SendTaskHeartbeat", lambda **_: beats.append("beat")
        )
        progress: list[int] = []  # what the container writes onto the task as it runs

        def written(params: dict[str, Any], **_: Any) -> None:
            body = params.get("ExpressionAttributeValues", {}).get(":b")
            if body:
                progress.append(json.loads(body["S"])["progress"])

        world.container_clients.dynamodb.meta.events.register(
            "before-parameter-build.dynamodb.UpdateItem", written
        )
        request = VideoFaceSwapRequest.model_validate(
            {"source": {"base64": b64(grace_hopper_jpeg())}, "video": {"base64": b64(clip)}}
        )
        caller = world.funded_caller(1000)
        task = views.submit_video_face_swap(world.runtime.services, caller, request)
        done, execution = finished(world, task)
        assert (done.status, execution["status"]) == (TaskStatus.SUCCEEDED, "SUCCEEDED"), done.error
        assert done.result_key == f"results/{task.id}.mp4"
        assert done.result_data is not None and done.result_data["video"]["frames"] == 48
        s3 = boto3.client("s3", region_name=REGION)
        result = s3.get_object(Bucket="faceport-results", Key=done.result_key)["Body"].read()
        # The request SageMaker carried named the task; the video never went inline.
        (request_key,) = [
            o["Key"]
            for o in s3.list_objects_v2(Bucket="faceport-inputs", Prefix="engine/requests/")[
                "Contents"
            ]
        ]
        sent = s3.get_object(Bucket="faceport-inputs", Key=request_key)["Body"].read()
    assert len(sent) < 1000 and json.loads(sent)["task_id"] == task.id
    # At least the first beat (sent at the download); how many more depends on how fast
    # this machine runs the clip, one per second of work.
    assert len(beats) >= 1
    assert len(progress) >= 2 and progress == sorted(progress) and progress[-1] < 100
    output = tmp_path / "out.mp4"
    output.write_bytes(result)
    assert sum(1 for _ in decoded_frames(output)) == 48
