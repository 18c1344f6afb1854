"""Wiring of the local shape: every port with its local adapter, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from faceport import billing, workflow
from faceport.adapters.local.engine import InProcessEngine
from faceport.adapters.local.file_blobs import FileBlobStore, load_or_create_secret
from faceport.adapters.local.rate_limit import TokenBucketLimiter
from faceport.adapters.local.sqlite_accounts import SqliteAccounts
from faceport.adapters.local.sqlite_tasks import SqliteTaskStore
from faceport.adapters.local.worker_pool import WorkerPool
from faceport.fetch import HttpFetcher
from faceport.ports import Accounts, Engine
from faceport.service import Services
from faceport.settings import Settings


@dataclass(frozen=True)
class LocalRuntime:
    services: Services
    blobs: FileBlobStore
    pool: WorkerPool
    accounts: Accounts

    def start(self) -> None:
        # One process owns the data dir: no submit is under way, every open hold is settled.
        billing.reconcile(self.services.tasks, self.accounts)
        self.pool.run()

    def stop(self) -> None:
        self.pool.stop()


def build_local_runtime(
    settings: Settings, engine: Engine | None = None, accounts: Accounts | None = None
) -> LocalRuntime:
    """Everything `faceport serve` needs, rooted at `settings.data_dir`."""
    data = settings.data_dir
    tasks = SqliteTaskStore(data / "faceport.sqlite3")
    accounts = accounts or SqliteAccounts(data / "faceport.sqlite3")
    blobs = FileBlobStore(data / "blobs", settings.base_url, load_or_create_secret(data / "secret"))
    fetcher = HttpFetcher.from_settings(settings)
    deps = workflow.WorkflowDeps(
        settings=settings,
        tasks=tasks,
        blobs=blobs,
        fetcher=fetcher,
        engine=engine or InProcessEngine(),
        ledger=accounts,
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
        accounts=accounts,
        ledger=accounts,
        rate_limiter=TokenBucketLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
    )
    return LocalRuntime(services=services, blobs=blobs, pool=pool, accounts=accounts)
