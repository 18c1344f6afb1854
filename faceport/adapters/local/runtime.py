"""Wiring of the local shape: every port with its local adapter, in one place."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import partial

from faceport import billing, notify, workflow
from faceport.adapters.local.engine import in_process_engine
from faceport.adapters.local.file_blobs import FileBlobStore, load_or_create_secret
from faceport.adapters.local.rate_limit import TokenBucketLimiter
from faceport.adapters.local.sqlite_accounts import SqliteAccounts
from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.adapters.local.sqlite_webhooks import SqliteWebhookStore
from faceport.adapters.local.webhook_sender import WebhookSender
from faceport.adapters.local.worker_pool import WorkerPool
from faceport.api.groups import ROUTE_GROUPS
from faceport.backends import InProcessBackend
from faceport.fetch import HttpFetcher
from faceport.ports import Accounts, Engine
from faceport.service import Services
from faceport.settings import Settings
from faceport.tasks import Task


@dataclass(frozen=True)
class LocalRuntime:
    services: Services
    blobs: FileBlobStore
    pool: WorkerPool
    webhooks: WebhookSender
    accounts: Accounts

    def start(self) -> None:
        # One process owns the data dir: no submit is under way, every open hold is settled.
        billing.reconcile(self.services.tasks, self.accounts)
        self.pool.run()
        self.webhooks.run()

    def stop(self) -> None:
        self.pool.stop()
        self.webhooks.stop()


def build_local_runtime(
    settings: Settings, engine: Engine | None = None, accounts: Accounts | None = None
) -> LocalRuntime:
    """Everything `faceport serve` needs, rooted at `settings.data_dir`. The engine the
    settings choose is checked first (a bad model directory stops the start)."""
    engine = engine or in_process_engine(settings)
    data = settings.data_dir

    def queue_final_event(db: sqlite3.Connection, task: Task) -> None:
        # In the transaction that ends the task: the event commits with the final state.
        event = notify.final_event_of(services, task)
        if event is not None:
            outbox.add_in(db, event)
            outbox.wake()  # its claim waits for this transaction to commit

    tasks = SqliteTaskStore(data / "faceport.sqlite3", on_end=queue_final_event)
    outbox = SqliteWebhookStore(tasks)
    accounts = accounts or SqliteAccounts(data / "faceport.sqlite3")
    blobs = FileBlobStore(data / "blobs", settings.base_url, load_or_create_secret(data / "secret"))
    fetcher = HttpFetcher.from_settings(settings)
    backends = (InProcessBackend(engine),)
    deps = workflow.WorkflowDeps(
        settings=settings,
        tasks=tasks,
        blobs=blobs,
        fetcher=fetcher,
        ledger=accounts,
        backends=backends,
    )
    pool = WorkerPool(
        tasks,
        partial(workflow.run_task, deps),
        partial(workflow.fail, deps),
        workers=settings.workers,
        lease_s=settings.task_lease_s,
        max_attempts=settings.task_max_attempts,
    )
    services = Services(
        settings=settings,
        tasks=tasks,
        blobs=blobs,
        orchestrator=pool,
        fetcher=fetcher,
        webhooks=outbox,
        signing_secrets=outbox,
        accounts=accounts,
        ledger=accounts,
        rate_limiter=TokenBucketLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        backends=backends,
        render_task=ROUTE_GROUPS.render_task,
    )
    sender = WebhookSender(
        outbox,
        notify.WebhookDeps(
            outbox=outbox,
            secrets=outbox,
            post=notify.http_poster(settings),
            policy=settings.webhook_retry_policy,
        ),
        threads=settings.webhook_senders,
    )
    return LocalRuntime(
        services=services, blobs=blobs, pool=pool, webhooks=sender, accounts=accounts
    )
