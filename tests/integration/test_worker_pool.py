"""The worker pool over real SQLite: resuming after a crash, giving up after too many."""

from __future__ import annotations

from faceport.accounts import Caller
from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.api.native.schemas import FaceSwapRequest, ImageInput
from faceport.api.native.views import submit_face_swap
from faceport.settings import Settings
from faceport.tasks import TaskStatus
from tests.conftest import b64
from tests.support.fakes import FakeEngine
from tests.support.tiny import tiny_image


def _request() -> FaceSwapRequest:
    image = ImageInput(base64=b64(tiny_image()))
    return FaceSwapRequest(source=image, target=image)


def _caller(runtime: LocalRuntime) -> Caller:
    account = runtime.accounts.create_account("pool")
    runtime.accounts.top_up(account.id, 1000, "initial")
    return Caller(account.id)


def test_task_claimed_by_a_dead_process_is_resumed(settings: Settings) -> None:
    engine = FakeEngine()
    dead = build_local_runtime(settings, engine=engine)  # never started: it "crashed"
    task = submit_face_swap(dead.services, _caller(dead), _request())
    assert dead.services.tasks.claim_next(lease_s=3600) is not None  # held, then lost

    alive = build_local_runtime(settings, engine=engine)
    alive.start()
    try:
        done = alive.services.tasks.wait_until_done(task.id, timeout_s=10)
    finally:
        alive.stop()
    assert done is not None and done.status is TaskStatus.SUCCEEDED
    assert done.attempts == 2 and engine.calls == 1


def test_a_task_that_keeps_killing_workers_is_failed(settings: Settings) -> None:
    engine = FakeEngine()
    runtime = build_local_runtime(settings, engine=engine)
    task = submit_face_swap(runtime.services, _caller(runtime), _request())
    for _ in range(settings.task_max_attempts):
        assert runtime.services.tasks.claim_next(lease_s=0) is not None

    runtime.start()
    try:
        done = runtime.services.tasks.wait_until_done(task.id, timeout_s=10)
    finally:
        runtime.stop()
    assert done is not None and done.status is TaskStatus.FAILED
    assert done.error is not None and done.error.code == "worker_lost"
    assert engine.calls == 0


def test_many_tasks_on_two_workers_all_finish(settings: Settings) -> None:
    engine = FakeEngine(delay_s=0.01)
    runtime = build_local_runtime(settings, engine=engine)
    runtime.start()
    try:
        caller = _caller(runtime)
        tasks = [submit_face_swap(runtime.services, caller, _request()) for _ in range(20)]
        ended = [runtime.services.tasks.wait_until_done(t.id, timeout_s=10) for t in tasks]
    finally:
        runtime.stop()
    assert all(t is not None and t.status is TaskStatus.SUCCEEDED for t in ended)
    assert engine.calls == 20
