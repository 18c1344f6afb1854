"""The faceport stack: it only composes constructs (storage, api, workflow, inference,
webhooks, monitoring), each in its own module, and grants each Lambda what it uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.api import Api
from infra.inference import OUTPUTS_PREFIX, REQUESTS_PREFIX, Inference
from infra.monitoring import Monitoring
from infra.nag import acknowledge_findings
from infra.providers import Providers
from infra.storage import Storage
from infra.webhooks import Webhooks
from infra.workflow import Workflow


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
        environment = storage.environment()
        workflow = Workflow(self, "Workflow", environment=environment)
        inference = Inference(
            self,
            "Inference",
            inputs=storage.inputs,
            results=storage.results,
            environment=environment,
            instance_type=config.engine_instance_type,
            max_instances=config.engine_max_instances,
        )
        shared = {
            **environment,
            "FACEPORT_STATE_MACHINE_ARN": workflow.state_machine_arn,
            "FACEPORT_ENGINE_ENDPOINT": inference.endpoint_name,
            "FACEPORT_ENGINE_HEARTBEAT_S": str(config.engine_heartbeat_s),
            "FACEPORT_ENGINE_TIMEOUT_S": str(config.engine_timeout_s),
        }
        for function in (workflow.function, inference.callback):
            for name, value in shared.items():
                function.add_environment(name, value)
        api = Api(
            self,
            "Api",
            environment=shared,
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
            cors_origins=config.cors_origins,
        )
        tasks = storage.tables["tasks"]
        accounts, idempotency = storage.tables["accounts"], storage.tables["idempotency"]

        # Authorizer: look up key hashes, nothing else.
        accounts.grant_read_data(api.authorizer_function)

        # Credits: the API reserves (and claims idempotency keys, counts rate windows), the
        # workflow commits or releases, each a TransactWriteItems on these tables.
        for function in (api.function, workflow.function):
            accounts.grant_read_write_data(function)
        idempotency.grant_read_write_data(api.function)

        # API: write tasks and inputs, presign results, start and stop executions.
        tasks.grant_read_write_data(api.function)
        storage.inputs.grant_put(api.function, "inputs/*")
        storage.results.grant_read(api.function, "results/*")
        workflow.state_machine.grant_start_execution(api.function)
        workflow.state_machine.grant_execution(api.function, "states:StopExecution")

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

        # Webhooks: whoever ends a task (the steps, the API's cancel) queues its event; the
        # API also serves the deliveries and the signing secrets.
        webhooks = Webhooks(
            self,
            "Webhooks",
            queue=storage.webhook_queue,
            table=storage.tables["webhooks"],
            environment=shared,
        )
        for function in (api.function, workflow.function):
            storage.tables["webhooks"].grant_read_write_data(function)
            storage.webhook_queue.grant_send_messages(function)

        # External providers: their settings and keys for the API (cancel) and the workflow.
        self.providers = Providers(
            self, "Providers", providers=config.providers, routes=config.routes
        )
        self.providers.wire(
            api=api.function,
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
                "Api": api.function,
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
