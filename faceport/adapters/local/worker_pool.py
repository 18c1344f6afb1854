"""The local orchestrator: worker threads that claim tasks from SQLite and run them.

Durability comes from the store, not from memory: a task is claimed with a lease that a
heartbeat renews; if the process dies, the lease runs out (or is expired at the next
start) and another worker runs the task again, up to `max_attempts` times.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.errors import WorkerLost
from faceport.tasks import Task

logger = logging.getLogger(__name__)


class WorkerPool:
    """Orchestrator port for the local shape."""

    def __init__(
        self,
        store: SqliteTaskStore,
        run_task: Callable[[str], None],
        fail_task: Callable[[str, WorkerLost], object],
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

    # -- Orchestrator port -------------------------------------------------------------

    def start(self, task: Task) -> None:
        with self._wake:
            self._pending += 1
            self._wake.notify()

    def cancel(self, task_id: str) -> None:
        # The store already says `canceled`; each step checks it and the final write is
        # conditional, so there is nothing to interrupt for image tasks.
        return None

    # -- lifecycle ---------------------------------------------------------------------

    def run(self) -> None:
        """Start the workers; tasks left running by an earlier process are resumed."""
        resumed = self._store.expire_leases()
        if resumed:
            logger.info("resuming %d task(s) interrupted by a restart", resumed)
        with self._wake:
            self._pending += resumed
        for number in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        heartbeat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        heartbeat.start()
        self._threads.append(heartbeat)

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
            task = self._store.claim_next(self._lease_s)
            if task is None:
                self._sleep_until_woken()
                continue
            with self._in_flight_lock:
                self._in_flight.add(task.id)
            try:
                if task.attempts > self._max_attempts:
                    self._fail_task(task.id, WorkerLost())
                else:
                    self._run_task(task.id)
            finally:
                with self._in_flight_lock:
                    self._in_flight.discard(task.id)

    def _sleep_until_woken(self) -> None:
        with self._wake:
            # The timeout also picks up leases that ran out and tasks another process wrote.
            self._wake.wait_for(lambda: self._pending > 0 or self._stopping.is_set(), 1.0)
            self._pending = max(0, self._pending - 1)

    def _heartbeat(self) -> None:
        while not self._stopping.wait(self._lease_s / 3):
            with self._in_flight_lock:
                running = list(self._in_flight)
            try:
                self._store.renew_leases(running, self._lease_s)
            except Exception:
                logger.exception("could not renew task leases")
