"""The local webhook sender: threads that claim due deliveries from SQLite and make one try
each (`faceport.notify.attempt`).

Durability comes from the store: a delivery is leased while a try is under way; if the
process dies the lease is released at the next start and the try is made again, so a
restart loses nothing (at worst a try is repeated, with the same `webhook-id`).

Supervision: no error ends a sender. An unexpected error during a try is logged with the
event id and recorded as a failed try, so the delivery follows the retry schedule and
dies after the last try; one raised while claiming is logged and retried after a pause;
a delivery whose record cannot be read is set aside by the store (dead).
"""

from __future__ import annotations

import logging
import threading

from faceport import notify
from faceport.adapters.local.sqlite_webhooks import SqliteWebhookStore

logger = logging.getLogger(__name__)

_IDLE_S = 1.0  # also picks up deliveries written by the task store's end hook
_CLAIM_RETRY_S = 0.5  # after the store failed a claim (locked, I/O error)


class WebhookSender:
    def __init__(
        self, store: SqliteWebhookStore, deps: notify.WebhookDeps, *, threads: int
    ) -> None:
        self._store = store
        self._deps = deps
        self._count = threads
        # Longer than any one try, so a lease only runs out when its sender is gone.
        self._lease_s = deps.policy.timeout_s + 30.0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def run(self) -> None:
        """Start the senders; deliveries that were under way when the process died are due
        again at once, and pending ones keep their schedule."""
        released = self._store.release_leases()
        if released:
            logger.info("resuming %d webhook delivery(ies) interrupted by a restart", released)
        for number in range(self._count):
            thread = threading.Thread(target=self._work, name=f"webhooks-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Let tries under way finish (each is bounded by the webhook timeout), then stop."""
        self._stopping.set()
        self._store.wake()
        for thread in self._threads:
            thread.join(timeout_s)

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                self._once()
            except Exception:
                logger.exception("webhook sender could not claim a delivery; trying again")
                self._stopping.wait(_CLAIM_RETRY_S)

    def _once(self) -> None:
        seen = self._store.wakes()
        delivery = self._store.claim_due(self._lease_s)
        if delivery is None:
            due_in = self._store.seconds_until_due()
            idle = _IDLE_S if due_in is None else min(due_in, _IDLE_S)
            self._store.wait(seen, idle, self._stopping)
            return
        try:
            notify.attempt(self._deps, delivery)
        except Exception as exc:
            logger.exception("webhook delivery %s failed unexpectedly", delivery.event.id)
            reason = f"sender error: {type(exc).__name__}"
            try:
                notify.record_failed_try(self._deps, delivery, reason)
            except Exception:  # the lease runs out and the try is made again later
                logger.exception("could not record the failed try of %s", delivery.event.id)
