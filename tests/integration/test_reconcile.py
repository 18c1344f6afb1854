"""A crash between a task's last status change and its commit or release, or between a
submit's hold and its task, is settled when the local runtime starts again."""

from __future__ import annotations

from faceport.accounts import Caller, Hold, IdempotencyClaim
from faceport.adapters.local.runtime import build_local_runtime
from faceport.api.native.schemas import FaceSwapRequest, ImageInput
from faceport.api.native.views import submit_face_swap
from faceport.settings import Settings
from faceport.tasks import ACTIVE, TaskStatus, utcnow
from tests.conftest import b64
from tests.support.fakes import FakeEngine
from tests.support.tiny import tiny_image


def test_open_holds_are_settled_at_start_up(settings: Settings) -> None:
    engine = FakeEngine()
    crashed = build_local_runtime(settings, engine=engine)  # never started
    store = crashed.accounts
    account = store.create_account("crash")
    store.top_up(account.id, 100, "initial")
    caller = Caller(account.id)
    image = ImageInput(base64=b64(tiny_image()))
    request = FaceSwapRequest(source=image, target=image)
    ended = {}
    for status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED):
        task = submit_face_swap(crashed.services, caller, request)
        # the status was written, then the process died before the ledger heard of it
        crashed.services.tasks.update_if(task.id, ACTIVE, status=status, finished_at=utcnow())
        ended[status] = task.id
    still_queued = submit_face_swap(crashed.services, caller, request)
    claim = IdempotencyClaim(key="retry-me", fingerprint="f", ttl_s=3600)
    store.reserve(Hold(account.id, "task_never_written", "face_swap", 4), idempotency=claim)
    assert store.get_account(account.id).reserved == 20

    restarted = build_local_runtime(settings, engine=engine)
    restarted.start()
    try:
        done = restarted.services.tasks.wait_until_done(still_queued.id, 10)
    finally:
        restarted.stop()
    assert done is not None and done.status is TaskStatus.SUCCEEDED
    final = store.get_account(account.id)
    assert (final.balance, final.reserved) == (92, 0)  # two successes charged, nothing held
    settled = {e.ref: e.kind for e in store.entries(account.id) if e.kind != "reserve"}
    assert settled == {
        "initial": "top_up",
        ended[TaskStatus.SUCCEEDED]: "commit",
        ended[TaskStatus.FAILED]: "release",
        ended[TaskStatus.CANCELED]: "release",
        still_queued.id: "commit",
        "task_never_written": "release",
    }
    # the abandoned hold's idempotency key is free again
    again = store.reserve(Hold(account.id, "task_retry", "face_swap", 4), idempotency=claim)
    assert again == "task_retry"
