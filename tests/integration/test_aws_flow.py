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
from typing import Any

import boto3
import pytest
from PIL import Image

from faceport import service
from faceport.adapters.local.engine import InProcessEngine
from faceport.api.native import views
from faceport.api.native.schemas import FaceDetectRequest, FaceSwapRequest
from faceport.tasks import Task, TaskStatus
from tests.conftest import b64
from tests.support.api_client import Api, call, new_account
from tests.support.aws import REGION, AwsWorld, aws_world
from tests.support.fakes import NO_FACE_MARKER, FakeEngine
from tests.support.identity import SAME_PERSON_THRESHOLD, identity_distance
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg
from tests.support.tiny import tiny_image

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


def test_a_video_is_refused_at_submit_where_no_backend_runs_it(fake_world: AwsWorld) -> None:
    # The AWS shape's only backend (the SageMaker endpoint) takes images; the operations
    # table says so, and submit refuses before anything is stored, held or started.
    services = fake_world.runtime.services
    app = Api(services, new_account(services.accounts, services.ledger, 1000))
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    body = {"source": {"base64": b64(IMG)}, "video": {"base64": b64(video)}}
    reply = call(app, "POST", "/v1/video-face-swap", body)
    assert reply.status == 422, reply.body
    assert reply.code == "operation_not_available"
    account = call(app, "GET", "/v1/account").json()
    assert (account["balance"], account["reserved"]) == (1000, 0)
    assert call(app, "GET", "/v1/tasks").json()["data"] == []
    machine = services.settings.state_machine_arn
    assert fake_world.sfn.list_executions(stateMachineArn=machine)["executions"] == []
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.list_objects_v2(Bucket=services.settings.inputs_bucket).get("KeyCount") == 0
    # An image operation on the same deployment is accepted as before.
    swap = {"source": {"base64": b64(IMG)}, "target": {"base64": b64(IMG)}}
    accepted = call(app, "POST", "/v1/face-swap", swap)
    assert accepted.status == 202
    assert fake_world.wait_for_execution(accepted.json()["id"])["status"] == "SUCCEEDED"
