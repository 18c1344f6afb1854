"""Wiring of the AWS shape: every port with its AWS adapter, in one place (the analogue of
`adapters/local/runtime.py`). One composition root per Lambda, each building only what
that Lambda uses: `build_queries` (status), `build_services` (submit), `build_aws_runtime`
(workflow steps and the engine callback), `build_task_stream` (the outbox's stream
consumer). Built on a Lambda's first event and kept while it is warm; no client is made
before it is used."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

from faceport import workflow
from faceport.adapters.aws.clients import AwsClients, read_secret
from faceport.adapters.aws.dynamo_accounts import DynamoAccounts, DynamoRateLimiter
from faceport.adapters.aws.dynamodb_tasks import DynamoDbTaskStore
from faceport.adapters.aws.s3_blobs import S3BlobStore
from faceport.adapters.aws.sagemaker import SageMakerAsyncEngine
from faceport.adapters.aws.stepfunctions import StepFunctionsOrchestrator
from faceport.adapters.aws.webhooks import DynamoWebhookStore, SqsWebhookQueue
from faceport.api.groups import ROUTE_GROUPS
from faceport.backends import Backend
from faceport.fetch import HttpFetcher
from faceport.providers import provider_backends
from faceport.service import Queries, Services
from faceport.settings import AwsSettings, Settings


@dataclass(frozen=True)
class AwsRuntime:
    clients: AwsClients
    services: Services
    workflow: workflow.WorkflowDeps
    engine: SageMakerAsyncEngine
    orchestrator: StepFunctionsOrchestrator


def build_queries(settings: Settings, clients: AwsClients | None = None) -> Queries:
    """The status Lambda: read tasks, accounts and deliveries, sign result links, count
    requests. Its final events are queued by the tasks table's stream, not by any writer
    (see `build_task_stream`), so no store here has a hook that writes."""
    clients = clients or AwsClients()
    accounts = DynamoAccounts(settings.accounts_table, settings.idempotency_table, clients)
    return Queries(
        settings=settings,
        tasks=DynamoDbTaskStore(settings.tasks_table, clients),
        blobs=S3BlobStore(settings.inputs_bucket, settings.results_bucket, clients),
        webhooks=_webhooks(settings, clients),
        accounts=accounts,
        ledger=accounts,
        rate_limiter=DynamoRateLimiter(
            settings.idempotency_table, settings.rate_limit_per_s, clients
        ),
        render_task=ROUTE_GROUPS.render_task,
        bare_events=ROUTE_GROUPS.bare_events,
    )


def build_services(settings: Settings, clients: AwsClients | None = None) -> Services:
    """The submit Lambda: the queries' ports and what creates work (holds, executions,
    deliveries, secrets); the engine is known by its kind only (submit routes by it), the
    providers by their settings (a cancel stops the work at its provider)."""
    clients = clients or AwsClients()
    queries = build_queries(settings, clients)
    webhooks = _webhooks(settings, clients)
    fetcher = HttpFetcher.from_settings(settings)
    return Services(
        **vars(queries),
        orchestrator=_orchestrator(settings, clients),
        fetcher=fetcher,
        signing_secrets=webhooks,
        backends=_backends(settings, clients, fetcher),
    )


def build_aws_runtime(settings: Settings, clients: AwsClients | None = None) -> AwsRuntime:
    """The workflow and engine-callback Lambdas (and the tests' whole AWS world)."""
    clients = clients or AwsClients()
    services = build_services(settings, clients)
    engine = services.backends[0]
    assert isinstance(engine, SageMakerAsyncEngine)
    orchestrator = services.orchestrator
    assert isinstance(orchestrator, StepFunctionsOrchestrator)
    deps = workflow.WorkflowDeps(
        settings=settings,
        tasks=services.tasks,
        blobs=services.blobs,
        fetcher=services.fetcher,
        ledger=services.ledger,
        backends=services.backends,
    )
    return AwsRuntime(
        clients=clients, services=services, workflow=deps, engine=engine, orchestrator=orchestrator
    )


@dataclass(frozen=True)
class TaskStreamRuntime:
    """The stream consumer: a task's view for its event, and the webhook outbox."""

    queries: Queries
    webhooks: DynamoWebhookStore


def build_task_stream(settings: Settings, clients: AwsClients | None = None) -> TaskStreamRuntime:
    clients = clients or AwsClients()
    return TaskStreamRuntime(build_queries(settings, clients), _webhooks(settings, clients))


def _webhooks(settings: Settings, clients: AwsClients) -> DynamoWebhookStore:
    queue = SqsWebhookQueue(settings.webhook_queue_url, clients)
    return DynamoWebhookStore(settings.webhooks_table, queue, clients)


def _orchestrator(settings: Settings, clients: AwsClients) -> StepFunctionsOrchestrator:
    return StepFunctionsOrchestrator(
        settings.state_machine_arn,
        clients,
        {"heartbeat_s": settings.engine_heartbeat_s, "timeout_s": settings.engine_timeout_s},
        tasks_table=settings.tasks_table,
    )


def _backends(settings: Settings, clients: AwsClients, fetcher: HttpFetcher) -> tuple[Backend, ...]:
    """The SageMaker engine first, then the configured external providers."""
    engine = SageMakerAsyncEngine(
        settings.engine_endpoint,
        tasks_table=settings.tasks_table,
        requests_bucket=settings.inputs_bucket,
        clients=clients,
        timeout_s=settings.engine_timeout_s,
    )
    return (engine, *provider_backends(settings, fetcher, partial(read_secret, clients)))


@cache
def default_runtime() -> AwsRuntime:
    """The runtime of this Lambda: settings from its environment, real boto3 clients."""
    return build_aws_runtime(AwsSettings.from_environment())
