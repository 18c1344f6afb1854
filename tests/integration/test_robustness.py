"""A stored task or delivery that cannot be read back fails alone, and no error stops a
worker or a webhook sender: the faults are put into real SQLite rows and real loops."""

from __future__ import annotations

import json
import threading
from functools import partial
from typing import Any

import pytest
from pydantic import ValidationError

from faceport import billing, notify, workflow
from faceport.accounts import Caller
from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.adapters.local.webhook_sender import WebhookSender
from faceport.adapters.local.worker_pool import WorkerPool
from faceport.api.native.schemas import FaceSwapRequest, ImageInput
from faceport.api.native.views import submit_face_swap
from faceport.backends import InProcessBackend
from faceport.settings import Settings
from faceport.tasks import Task, TaskStatus
from faceport.webhooks import Delivery
from tests.conftest import b64
from tests.support.fakes import FakeEngine
from tests.support.tiny import tiny_image
from tests.support.webhook_receiver import wait_until, webhook_receiver


def request(notify_url: str | None = None) -> FaceSwapRequest:
    image = ImageInput(base64=b64(tiny_image()))
    return FaceSwapRequest(source=image, target=image, notify_url=notify_url)


def funded(runtime: LocalRuntime, credits: int = 1000) -> Caller:
    account = runtime.accounts.create_account("robust")
    runtime.accounts.top_up(account.id, credits, "initial")
    return Caller(account.id)


def deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def unreadable(body: str) -> str:
    """`body` with its metadata nested 250 deep: valid JSON that pydantic cannot read
    (what the issue's 202-then-500 tasks looked like in the database)."""
    data = json.loads(body)
    data["metadata"] = deep(250)
    broken = json.dumps(data)
    with pytest.raises(ValidationError):
        Task.model_validate_json(broken)
    return broken


def corrupt_task(runtime: LocalRuntime, task_id: str) -> None:
    db = runtime.services.tasks.connection()  # type: ignore[attr-defined]
    (body,) = db.execute("SELECT body FROM tasks WHERE id = ?", (task_id,)).fetchone()
    with runtime.services.tasks.transaction() as tx:  # type: ignore[attr-defined]
        tx.execute("UPDATE tasks SET body = ? WHERE id = ?", (unreadable(body), task_id))


def reserved(runtime: LocalRuntime, caller: Caller) -> int:
    account = runtime.accounts.get_account(caller.account_id)
    assert account is not None
    return account.reserved


def workers_alive() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("worker-"))


def test_an_unreadable_task_fails_alone_and_the_others_run(settings: Settings) -> None:
    """Critical 1: the unreadable task used to kill both workers, hold every other
    account's tasks and stop `faceport serve` from starting again."""
    crashed = build_local_runtime(settings, engine=FakeEngine())  # never started
    bad_owner, other = funded(crashed), funded(crashed)
    bad = submit_face_swap(crashed.services, bad_owner, request())
    corrupt_task(crashed, bad.id)
    others = [submit_face_swap(crashed.services, other, request()) for _ in range(3)]

    runtime = build_local_runtime(settings, engine=FakeEngine())
    runtime.start()  # billing.reconcile reads the unreadable task: it must not raise
    try:
        ended = [runtime.services.tasks.wait_until_done(t.id, 10) for t in others]
        assert [t.status for t in ended if t] == [TaskStatus.SUCCEEDED] * 3
        failed = wait_until(lambda: _ended(runtime, bad.id), what="the unreadable task failed")
        assert failed.error is not None and failed.error.code == "task_unreadable"
        wait_until(lambda: reserved(runtime, bad_owner) == 0, what="its hold released")
        wait_until(lambda: reserved(runtime, other) == 0, what="the others settled")
        assert len(workers_alive()) == settings.workers
        # The original body is kept aside for whoever looks into it.
        db = runtime.services.tasks.connection()  # type: ignore[attr-defined]
        kept = db.execute("SELECT body FROM tasks_unreadable WHERE id = ?", (bad.id,)).fetchone()
        assert kept is not None and '"metadata"' in kept[0]
    finally:
        runtime.stop()
    restarted = build_local_runtime(settings, engine=FakeEngine())
    restarted.start()
    restarted.stop()


def test_reconcile_at_start_up_survives_an_unreadable_task(settings: Settings) -> None:
    crashed = build_local_runtime(settings, engine=FakeEngine())
    caller = funded(crashed)
    bad, broken, ended = (submit_face_swap(crashed.services, caller, request()) for _ in "abc")
    corrupt_task(crashed, bad.id)
    with crashed.services.tasks.transaction() as tx:  # type: ignore[attr-defined]
        tx.execute("UPDATE tasks SET status = 'failed' WHERE id = ?", (broken.id,))
        tx.execute(
            "UPDATE tasks SET status = 'failed', body = ? WHERE id = ?",
            (ended.model_copy(update={"status": TaskStatus.FAILED}).model_dump_json(), ended.id),
        )

    class BrokenRead(SqliteTaskStore):
        def get(self, task_id: str) -> Task | None:
            if task_id == broken.id:
                raise OSError("disk I/O error")
            return super().get(task_id)

    store = BrokenRead(settings.data_dir / "faceport.sqlite3")
    # One hold it cannot read at all is skipped (logged); the unreadable task's hold is
    # released (it stands in as failed) and the ended one's too: nothing is charged.
    assert billing.reconcile(store, crashed.accounts) == 2
    assert reserved(crashed, caller) == 4
    account = crashed.accounts.get_account(caller.account_id)
    assert account is not None and account.balance == 1000


def test_an_unreadable_task_reads_as_failed_and_lists(settings: Settings) -> None:
    runtime = build_local_runtime(settings, engine=FakeEngine())
    caller = funded(runtime)
    task = submit_face_swap(runtime.services, caller, request())
    corrupt_task(runtime, task.id)
    got = runtime.services.tasks.get(task.id)
    assert got is not None and got.status is TaskStatus.FAILED
    page = runtime.services.tasks.list(caller.account_id, status=None, limit=10, cursor=None)
    assert [t.id for t in page.tasks] == [task.id]
    assert runtime.services.tasks.update_if(task.id, {TaskStatus.QUEUED}) is None


def _ended(runtime: LocalRuntime, task_id: str) -> Task | None:
    task = runtime.services.tasks.get(task_id)
    return task if task is not None and task.status.is_terminal else None


# -- the worker pool, with faults put into its loop ------------------------------------


class FlakyStore(SqliteTaskStore):
    """The real store, whose first claims fail as a locked or broken database would."""

    failures = 3

    def claim_next(self, lease_s: float) -> Task | None:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("disk I/O error")
        return super().claim_next(lease_s)


# The injected SystemExit ends a worker thread on purpose; pytest reports that as a warning.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_workers_survive_errors_in_every_step_of_their_loop(settings: Settings) -> None:
    runtime = build_local_runtime(settings, engine=FakeEngine())
    deps = workflow.WorkflowDeps(
        settings=settings,
        tasks=runtime.services.tasks,
        blobs=runtime.blobs,
        fetcher=runtime.services.fetcher,
        ledger=runtime.accounts,
        backends=(InProcessBackend(FakeEngine()),),
    )
    faults = {"run": 2, "kill": 1}

    def run_task(task_id: str) -> None:
        if faults["kill"]:
            faults["kill"] -= 1
            raise SystemExit("a worker thread dies outright")  # BaseException: not caught
        if faults["run"]:
            faults["run"] -= 1
            raise RuntimeError("unexpected bug outside the workflow's own handling")
        workflow.run_task(deps, task_id)

    store = FlakyStore(settings.data_dir / "faceport.sqlite3")
    pool = WorkerPool(
        store,
        run_task,
        partial(workflow.fail, deps),
        workers=2,
        lease_s=1.0,
        max_attempts=5,
    )
    caller = funded(runtime)
    tasks = [submit_face_swap(runtime.services, caller, request()) for _ in range(8)]
    pool.run()
    try:
        ended = [wait_until(lambda t=t: _ended(runtime, t.id), what=t.id) for t in tasks]
        wait_until(lambda: len(workers_alive()) == 2, what="the dead worker replaced")
    finally:
        pool.stop()
    statuses = sorted(t.status.value for t in ended)
    # Two fail with internal_error (the injected bugs); the killed worker's task is
    # claimed again when its lease runs out and succeeds; every hold is settled.
    assert statuses == ["failed"] * 2 + ["succeeded"] * 6, statuses
    assert {t.error.code for t in ended if t.error} == {"internal_error"}
    assert reserved(runtime, caller) == 0


# -- the webhook senders ----------------------------------------------------------------


def test_an_unreadable_delivery_is_set_aside_and_the_others_are_sent(
    settings: Settings,
) -> None:
    """Critical 2: each unreadable delivery killed one sender; after four none was left."""
    with webhook_receiver() as receiver:
        crashed = build_local_runtime(settings, engine=FakeEngine())
        caller = funded(crashed)
        bad = [submit_face_swap(crashed.services, caller, request(receiver.url)) for _ in range(5)]
        for task in bad:  # ended, each with a final event in the outbox
            workflow.fail(_deps(crashed, settings), task.id, notify_error())
        db = crashed.services.tasks.connection()  # type: ignore[attr-defined]
        with crashed.services.tasks.transaction() as tx:  # type: ignore[attr-defined]
            for event_id, body in db.execute("SELECT event_id, body FROM webhook_deliveries"):
                data = json.loads(body)
                data["event"]["payload"]["data"]["metadata"] = deep(250)
                broken = json.dumps(data)
                with pytest.raises(ValidationError):
                    Delivery.model_validate_json(broken)
                tx.execute(
                    "UPDATE webhook_deliveries SET body = ? WHERE event_id = ?", (broken, event_id)
                )

        runtime = build_local_runtime(settings, engine=FakeEngine())
        runtime.start()
        try:
            good = submit_face_swap(runtime.services, caller, request(receiver.url))
            received = receiver.wait_for(1)
            assert json.loads(received[0].body)["data"]["id"] == good.id
            senders = [t for t in threading.enumerate() if t.name.startswith("webhooks-")]
            assert len(senders) == settings.webhook_senders
            statuses = {
                d.status.value for t in bad for d in runtime.services.webhooks.deliveries(t.id)
            }
            assert statuses <= {"dead"}
        finally:
            runtime.stop()


def notify_error() -> Any:
    from faceport.errors import NoFaceInSource

    return NoFaceInSource()


def _deps(runtime: LocalRuntime, settings: Settings) -> workflow.WorkflowDeps:
    return workflow.WorkflowDeps(
        settings=settings,
        tasks=runtime.services.tasks,
        blobs=runtime.blobs,
        fetcher=runtime.services.fetcher,
        ledger=runtime.accounts,
    )


class FlakySecrets:
    """The real secret store, failing its first loads: an unexpected error inside a try."""

    def __init__(self, real: Any, failures: int) -> None:
        self._real = real
        self.failures = failures

    def load(self, account_id: str) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("secret store bug")
        return self._real.load(account_id)

    def save(self, *args: Any) -> bool:
        return bool(self._real.save(*args))


def test_senders_survive_errors_and_retry_with_a_limit(settings: Settings) -> None:
    fast = settings.model_copy(
        update={"webhook_retry_base_s": 0.1, "webhook_retry_jitter": 0.0, "webhook_max_attempts": 3}
    )
    with webhook_receiver() as receiver:
        runtime = build_local_runtime(fast, engine=FakeEngine())
        caller = funded(runtime)
        outbox = runtime.services.webhooks
        secrets = FlakySecrets(outbox, failures=2)
        deps = notify.WebhookDeps(
            outbox=outbox,  # type: ignore[arg-type]
            secrets=secrets,  # type: ignore[arg-type]
            post=notify.http_poster(fast),
            policy=fast.webhook_retry_policy,
        )
        sender = WebhookSender(outbox, deps, threads=1)  # type: ignore[arg-type]
        doomed = submit_face_swap(runtime.services, caller, request(receiver.url))
        workflow.fail(_deps(runtime, fast), doomed.id, notify_error())
        sender.run()
        try:
            receiver.wait_for(1)  # two failed tries recorded, then the third delivers
            # The try is recorded after the receiver answered: wait for the record.
            wait_until(
                lambda: outbox.deliveries(doomed.id)[0].status.value == "delivered",
                what="the third try recorded as delivered",
            )
            (delivery,) = outbox.deliveries(doomed.id)
            errors = [a.error for a in delivery.history]
            assert errors == ["sender error: RuntimeError"] * 2 + [None]
            # A delivery that always fails our side dies after the policy's last try.
            secrets.failures = 100
            dead = submit_face_swap(runtime.services, caller, request(receiver.url))
            workflow.fail(_deps(runtime, fast), dead.id, notify_error())
            outbox.wake()  # type: ignore[attr-defined]
            wait_until(
                lambda: (
                    outbox.deliveries(dead.id)
                    and outbox.deliveries(dead.id)[0].status.value == "dead"
                ),
                what="the delivery dead after 3 tries",
            )
            assert len(outbox.deliveries(dead.id)[0].history) == 3
        finally:
            sender.stop()
