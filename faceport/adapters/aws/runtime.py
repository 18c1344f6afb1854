"""Wiring of the AWS shape: every port with its AWS adapter, in one place (the analogue of
`adapters/local/runtime.py`). Built on a Lambda's first event and kept while it is warm."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

from faceport import notify, workflow
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
from faceport.service import Services
from faceport.settings import Settings
from faceport.tasks import Task


@dataclass(frozen=True)
class AwsRuntime:
    clients: AwsClients
    services: Services
    workflow: workflow.WorkflowDeps
    engine: SageMakerAsyncEngine
    orchestrator: StepFunctionsOrchestrator


def build_aws_runtime(settings: Settings, clients: AwsClients | None = None) -> AwsRuntime:
    """Everything the API, workflow and callback Lambdas need; no client is made yet."""
    clients = clients or AwsClients()
    webhooks = DynamoWebhookStore(
        settings.webhooks_table, SqsWebhookQueue(settings.webhook_queue_url, clients), clients
    )

    def queue_final_event(task: Task) -> None:
        # After the write that ended the task (see DynamoDbTaskStore); a repeat is at most
        # a duplicate the consumer drops by `webhook-id`, which follows from the task.
        event = notify.final_event_of(services, task)
        if event is not None:
            webhooks.enqueue(event)

    tasks = DynamoDbTaskStore(settings.tasks_table, clients, on_end=queue_final_event)
    blobs = S3BlobStore(settings.inputs_bucket, settings.results_bucket, clients)
    fetcher = HttpFetcher.from_settings(settings)
    orchestrator = StepFunctionsOrchestrator(
        settings.state_machine_arn,
        clients,
        {"heartbeat_s": settings.engine_heartbeat_s, "timeout_s": settings.engine_timeout_s},
        tasks_table=settings.tasks_table,
    )
    engine = SageMakerAsyncEngine(
        settings.engine_endpoint,
        tasks_table=settings.tasks_table,
        requests_bucket=settings.inputs_bucket,
        clients=clients,
        timeout_s=settings.engine_timeout_s,
    )
    backends: tuple[Backend, ...] = (
        engine,
        *provider_backends(settings, fetcher, partial(read_secret, clients)),
    )
    accounts = DynamoAccounts(settings.accounts_table, settings.idempotency_table, clients)
    services = Services(
        settings=settings,
        tasks=tasks,
        blobs=blobs,
        orchestrator=orchestrator,
        fetcher=fetcher,
        webhooks=webhooks,
        signing_secrets=webhooks,
        accounts=accounts,
        ledger=accounts,
        rate_limiter=DynamoRateLimiter(
            settings.idempotency_table, settings.rate_limit_per_s, clients
        ),
        backends=backends,
        render_task=ROUTE_GROUPS.render_task,
        bare_events=ROUTE_GROUPS.bare_events,
    )
    deps = workflow.WorkflowDeps(
        settings=settings,
        tasks=tasks,
        blobs=blobs,
        fetcher=fetcher,
        ledger=accounts,
        backends=backends,
    )
    return AwsRuntime(
        clients=clients,
        services=services,
        workflow=deps,
        engine=engine,
        orchestrator=orchestrator,
    )


@cache
def default_runtime() -> AwsRuntime:
    """The runtime of this Lambda: settings from its environment, real boto3 clients."""
    return build_aws_runtime(Settings())
