"""The local orchestrator: worker threads that claim tasks from SQLite and run them.

Durability comes from the store, not from memory: a task is claimed with a lease that a
heartbeat renews; if the process dies, the lease runs out (or is expired at the next
start) and another worker runs the task again, up to `max_attempts` times.

A task waiting at an external provider holds no worker: `run_task` answers when it
wants to be polled again, the task's lease is set to run out then (`defer`), and the
worker goes on; when the lease runs out, a worker claims it and polls once. A provider's
callback makes it due at once (`resume`).

Supervision: no error ends a worker. One raised while a task runs is logged with the
task's id and fails that task (`internal_error`); one raised while claiming (the
database) is logged and retried after a pause; a task the store cannot read comes back
failed (`task_unreadable`) and only has its hold settled. The heartbeat also replaces a
worker thread that died anyway (a BaseException).
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable

from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.errors import FaceportError, TaskUnreadable, WorkerLost
from faceport.tasks import Task, TaskStatus

logger = logging.getLogger(__name__)

_CLAIM_RETRY_S = 0.5  # after the store failed a claim (locked, I/O error)
_SUPERVISE_S = 1.0  # how often dead workers are looked for


class WorkerPool:
    """Orchestrator port for the local shape."""

    def __init__(
        self,
        store: SqliteTaskStore,
        run_task: Callable[[str], float | None],
        fail_task: Callable[[str, FaceportError], object],
        *,
        workers: int,
        lease_s: float,
        max_attempts: int,
    ) -> None:
        self._store = store
        self._run_task = run_task
        self._fail_task = fail_task
        self._workers = workers
        self._lease_s = lease_s
        self._max_attempts = max_attempts
        self._wake = threading.Condition()
        self._pending = 0
        self._stopping = threading.Event()
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._workers_alive: list[threading.Thread] = []
        self._again: set[str] = set()  # called back while a worker held them
        self._due: list[float] = []  # when deferred tasks want polling (monotonic), a heap

    # -- Orchestrator port -------------------------------------------------------------

    def start(self, task: Task) -> None:
        with self._wake:
            self._pending += 1
            self._wake.notify()

    def cancel(self, task_id: str) -> None:
        # The store already says `canceled`; each step checks it and the final write is
        # conditional, so there is nothing to interrupt for image tasks.
        return None

    def resume(self, task_id: str) -> None:
        """A task waiting at a provider is due now (its callback came). One a worker of
        ours holds (submitting, polling) is polled again as soon as that worker lets go."""
        with self._in_flight_lock:
            if task_id in self._in_flight:
                self._again.add(task_id)
                return
        if self._store.make_due(task_id):
            with self._wake:
                self._pending += 1
                self._wake.notify()

    # -- lifecycle ---------------------------------------------------------------------

    def run(self) -> None:
        """Start the workers; tasks left running by an earlier process are resumed."""
        resumed = self._store.expire_leases()
        if resumed:
            logger.info("resuming %d task(s) interrupted by a restart", resumed)
        with self._wake:
            self._pending += resumed
        self._workers_alive = [self._start_worker(n) for n in range(self._workers)]
        heartbeat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        heartbeat.start()
        self._threads.append(heartbeat)

    def _start_worker(self, number: int) -> threading.Thread:
        thread = threading.Thread(target=self._work, name=f"worker-{number}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def stop(self, timeout_s: float = 10.0) -> None:
        """Let running tasks finish their current step, then stop."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)

    # -- internals ---------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                task = self._store.claim_next(self._lease_s)
            except Exception:
                logger.exception("could not claim a task; trying again shortly")
                self._stopping.wait(_CLAIM_RETRY_S)
                continue
            if task is None:
                self._sleep_until_woken()
            else:
                self._run_one(task)

    def _run_one(self, task: Task) -> None:
        with self._in_flight_lock:
            self._in_flight.add(task.id)
        try:
            if task.status is not TaskStatus.RUNNING:  # set aside by the store: settle it
                self._fail_task(task.id, TaskUnreadable())
            elif task.attempts > self._max_attempts:
                self._fail_task(task.id, WorkerLost())
            else:
                poll_in_s = self._run_task(task.id)
                if poll_in_s is not None:
                    self._defer(task.id, poll_in_s)
        except Exception:
            logger.exception("task %s failed unexpectedly in its worker", task.id)
            try:
                self._fail_task(task.id, FaceportError())
            except Exception:  # the lease runs out and the task is claimed again
                logger.exception("could not fail task %s", task.id)
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(task.id)
                self._again.discard(task.id)

    def _defer(self, task_id: str, delay_s: float) -> None:
        """Let the task go until `delay_s` from now: no worker holds it meanwhile."""
        with self._in_flight_lock:  # the heartbeat renews under it: no renewal after this
            self._in_flight.discard(task_id)
            if task_id in self._again:
                self._again.discard(task_id)
                delay_s = 0.0
            self._store.defer(task_id, delay_s)
        with self._wake:
            heapq.heappush(self._due, time.monotonic() + delay_s)

    def _sleep_until_woken(self) -> None:
        with self._wake:
            # The timeout also picks up leases that ran out and tasks another process wrote.
            now = time.monotonic()
            while self._due and self._due[0] <= now:
                heapq.heappop(self._due)
                self._pending += 1
            wait_s = min(1.0, self._due[0] - now) if self._due else 1.0
            self._wake.wait_for(lambda: self._pending > 0 or self._stopping.is_set(), wait_s)
            self._pending = max(0, self._pending - 1)

    def _heartbeat(self) -> None:
        while not self._stopping.wait(min(self._lease_s / 3, _SUPERVISE_S)):
            self._replace_dead_workers()
            try:
                # Under the lock: a task deferred meanwhile keeps its deferral (`_defer`).
                with self._in_flight_lock:
                    self._store.renew_leases(list(self._in_flight), self._lease_s)
            except Exception:
                logger.exception("could not renew task leases")

    def _replace_dead_workers(self) -> None:
        for number, thread in enumerate(self._workers_alive):
            if not thread.is_alive() and not self._stopping.is_set():
                logger.error("worker %s died; starting a new one", thread.name)
                self._workers_alive[number] = self._start_worker(number)
