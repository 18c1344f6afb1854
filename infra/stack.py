"""The faceport stack: it only composes constructs (storage, api, workflow, inference,
webhooks, monitoring), each in its own module, and grants each Lambda what it uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from faceport.settings import AwsSettings
from infra.api import Api
from infra.inference import OUTPUTS_PREFIX, REQUESTS_PREFIX, Inference, endpoint_name
from infra.monitoring import Monitoring
from infra.nag import acknowledge_findings
from infra.providers import Providers
from infra.storage import Storage
from infra.webhooks import Webhooks
from infra.workflow import Workflow, state_machine_arn

# What the engine container reads (a video task's table, buckets and step timing).
ENGINE_SETTINGS = (
    "tasks_table",
    "inputs_bucket",
    "results_bucket",
    "engine_heartbeat_s",
    "engine_timeout_s",
)


@dataclass(frozen=True)
class FaceportConfig:
    """Deployment choices, from CDK context (`cdk deploy -c faceport:NAME=VALUE`)."""

    input_expiry_days: int = 1
    result_expiry_days: int = 7
    engine_instance_type: str = "ml.c5.xlarge"
    engine_max_instances: int = 2
    engine_heartbeat_s: int = 900
    engine_timeout_s: int = 3600
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    cors_origins: tuple[str, ...] = ("*",)
    alarm_email: str | None = None
    retain_data: bool = True
    # The neural backend (FACEPORT_ENGINE=onnx): the s3:// URI of a model.tar.gz holding the
    # operator's ONNX models; SageMaker unpacks it into /opt/ml/model. Empty: classic engine.
    engine_model_data: str = ""
    # external providers: JSON, as FACEPORT_PROVIDERS and FACEPORT_ROUTES (infra/providers.py)
    providers: str = ""
    routes: str = ""

    @classmethod
    def from_context(cls, scope: Construct) -> FaceportConfig:
        values: dict[str, Any] = {}
        for name, default in cls().__dict__.items():
            raw = scope.node.try_get_context(f"faceport:{name}")
            if raw is None:
                continue
            if isinstance(default, bool):
                values[name] = str(raw).lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                values[name] = int(raw)
            elif isinstance(default, tuple):
                values[name] = tuple(str(raw).split(",")) if isinstance(raw, str) else tuple(raw)
            else:
                values[name] = json.dumps(raw) if isinstance(raw, dict) else str(raw)
        return cls(**values)


class FaceportStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FaceportConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description="faceport face-swap API", **kwargs)
        config = config or FaceportConfig.from_context(self)
        storage = Storage(
            self,
            "Storage",
            input_expiry_days=config.input_expiry_days,
            result_expiry_days=config.result_expiry_days,
            removal_policy=cdk.RemovalPolicy.RETAIN
            if config.retain_data
            else cdk.RemovalPolicy.DESTROY,
        )
        # Every Lambda's FACEPORT_* variables, from the settings model (a name it does not
        # know, or a required one left out, fails the synth).
        settings: dict[str, str | int] = {
            **storage.settings(),
            "state_machine_arn": state_machine_arn(self),
            "engine_endpoint": endpoint_name(self),
            "engine_heartbeat_s": config.engine_heartbeat_s,
            "engine_timeout_s": config.engine_timeout_s,
        }
        environment = AwsSettings.environment(**settings)
        workflow = Workflow(self, "Workflow", environment=environment)
        inference = Inference(
            self,
            "Inference",
            inputs=storage.inputs,
            results=storage.results,
            tasks=storage.tables["tasks"],
            state_machine_arn=state_machine_arn(self),
            environment=environment,
            engine_settings={name: settings[name] for name in ENGINE_SETTINGS},
            instance_type=config.engine_instance_type,
            max_instances=config.engine_max_instances,
            model_data=config.engine_model_data,
        )
        api = Api(
            self,
            "Api",
            environment=environment,
            # API Gateway gives up after 29 s; `Prefer: wait` stays below that.
            submit_environment=AwsSettings.environment(**settings, max_wait_s=25),
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
            cors_origins=config.cors_origins,
        )
        tasks, webhook_table = storage.tables["tasks"], storage.tables["webhooks"]
        accounts, idempotency = storage.tables["accounts"], storage.tables["idempotency"]
        submit, status = api.submit_function, api.status_function

        # Authorizer: look up key hashes, nothing else.
        accounts.grant_read_data(api.authorizer_function)

        # Credits: submit reserves (and claims idempotency keys, counts rate windows), the
        # workflow commits or releases, each a TransactWriteItems on these tables.
        for function in (submit, workflow.function):
            accounts.grant_read_write_data(function)
        idempotency.grant_read_write_data(submit)

        # Submit: write tasks and inputs, presign results, start and stop executions,
        # redeliver events, make and rotate signing secrets.
        tasks.grant_read_write_data(submit)
        storage.inputs.grant_put(submit, "inputs/*")
        storage.results.grant_read(submit, "results/*")
        workflow.state_machine.grant_start_execution(submit)
        workflow.state_machine.grant_execution(submit, "states:StopExecution")
        webhook_table.grant_read_write_data(submit)
        storage.webhook_queue.grant_send_messages(submit)

        # Status: read tasks, accounts and deliveries, presign results; its only write is
        # the key's per-second request counter (RATE# items of the idempotency table).
        # (and idempotency claims: Zhiqite's query finds a task by its business id)
        for table in (tasks, accounts, webhook_table, idempotency):
            table.grant_read_data(status)
        storage.results.grant_read(status, "results/*")
        grant_rate_counting(idempotency, status)

        # Workflow steps: tasks, inputs and engine requests, results, the endpoint.
        tasks.grant_read_write_data(workflow.function)
        storage.inputs.grant_read_write(workflow.function, "inputs/*")
        storage.inputs.grant_put(workflow.function, f"{REQUESTS_PREFIX}*")
        storage.results.grant_read_write(workflow.function, "results/*")
        storage.results.grant_read(workflow.function, f"{OUTPUTS_PREFIX}*")
        inference.grant_invoke(workflow.function)
        workflow.grant_task_response(workflow.function)

        # Callback: find the task token, read failure bodies, complete the step.
        tasks.grant_read_data(inference.callback)
        workflow.grant_task_response(inference.callback)

        # Webhooks: the tasks table's stream queues every final event (whoever wrote it);
        # the stream Lambda presigns the result link the event carries.
        webhooks = Webhooks(
            self,
            "Webhooks",
            queue=storage.webhook_queue,
            dead_letters=storage.webhook_dlq,
            table=webhook_table,
            tasks=tasks,
            environment=environment,
        )
        storage.results.grant_read(webhooks.stream_function, "results/*")

        # External providers: their settings and keys for the API (cancel) and the workflow.
        self.providers = Providers(
            self, "Providers", providers=config.providers, routes=config.routes
        )
        self.providers.wire(
            api=submit,
            workflow=workflow.function,
            state_machine_arn=workflow.state_machine_arn,
            api_url=api.url_for_callbacks,
        )

        self.storage, self.api, self.workflow, self.inference = storage, api, workflow, inference
        self.webhooks = webhooks
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            api=api.rest_api,
            functions={
                "Submit": submit,
                "Status": status,
                "TaskStream": webhooks.stream_function,
                "Workflow": workflow.function,
                "EngineCallback": inference.callback,
                "WebhookSender": webhooks.function,
                "Authorizer": api.authorizer_function,
            },
            state_machine=workflow.state_machine,
            webhook_queue=storage.webhook_queue,
            webhook_dlq=storage.webhook_dlq,
            engine_backlog=inference.metric("ApproximateBacklogSize"),
            alarm_email=config.alarm_email,
        )
        cdk.CfnOutput(self, "ApiUrl", value=api.rest_api.url)
        cdk.CfnOutput(self, "EngineEndpoint", value=inference.endpoint_name)
        # What `faceport admin --stack NAME` reads.
        cdk.CfnOutput(self, "AccountsTableName", value=accounts.table_name)
        cdk.CfnOutput(self, "IdempotencyTableName", value=idempotency.table_name)
        acknowledge_findings(self)


def grant_rate_counting(table: dynamodb.ITable, grantee: iam.IGrantable) -> None:
    """UpdateItem on the idempotency table's RATE# items only (DynamoRateLimiter)."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["dynamodb:UpdateItem"],
        resource_arns=[table.table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*"]}},
    )
