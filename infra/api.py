"""API: API Gateway (REST) -> the API Lambda (the same Powertools resolver the local server
runs), with throttling, JSON access logs, CORS and the API-key REQUEST authorizer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from constructs import Construct

from faceport.api.headers import CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_MAX_AGE_S
from faceport.api.native.errors import gateway_responses
from infra.functions import python_function

# --- the seed dialects' routes (../shared/DIALECTS.md) ---------------------------------
# Each one explicit, so that it can be mapped to its own Lambda: a "submit" stores a task
# (and may wait for it: Zhiqite up to 20 s, AILabTools until the fusion ends), a "query"
# only reads (a cancel writes, but is small and quick like a read). The root proxy would
# route them too; this table is the list a split of the API Lambda maps from.
RouteKind = Literal["submit", "query"]
_MJ_ROUTES: tuple[tuple[str, str, RouteKind], ...] = (
    ("POST", "/mj/insight-face/swap", "submit"),
    ("GET", "/mj/task/{task_id}/fetch", "query"),
    ("POST", "/mj/task/list-by-condition", "query"),
    ("POST", "/mj/task/list-by-ids", "query"),
    ("GET", "/mj/task/list", "query"),
    ("GET", "/mj/task/queue", "query"),
    ("POST", "/mj/task/query", "query"),
    ("POST", "/mj/task/{task_id}/cancel", "query"),
    ("GET", "/mj/task/{task_id}/image-seed", "query"),
)
DIALECT_ROUTES: tuple[tuple[str, str, RouteKind], ...] = (
    ("POST", "/api/v1/images/tools/face-swap", "submit"),  # API in One
    ("GET", "/api/v1/tasks/{task_id}", "query"),
    ("POST", "/AIGCImgOpenServ/saas/tool/roop", "submit"),  # Zhiqite
    ("POST", "/AIGCImgOpenServ/saas/tool/roop/queryTask", "query"),
    *(  # MJ-proxy, also under trueai's speed-mode prefixes
        (method, f"{mode}{path}", kind)
        for mode in ("", "/mj-fast", "/mj-turbo", "/mj-relax")
        for method, path, kind in _MJ_ROUTES
    ),
    ("POST", "/v1/workflows/executions", "submit"),  # HeyGen
    ("GET", "/v1/workflows/executions/{execution_id}", "query"),
    ("POST", "/v1/nodes/executions", "submit"),
    ("GET", "/v1/nodes/executions/{execution_id}", "query"),
    ("POST", "/api/portrait/effects/face-fusion", "submit"),  # AILabTools (multipart)
)
# API Gateway passes these bodies to the Lambda base64-encoded, byte for byte.
BINARY_MEDIA_TYPES = ["multipart/form-data"]
# The API's one stage (its URL path prefix).
STAGE = "v1"


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: dict[str, str],
        rate_limit: int,
        burst_limit: int,
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "Handler",
            handler="functions.api.handler.lambda_handler",
            description="faceport API: the /v1 Powertools resolver",
            # API Gateway gives up after 29 s; `Prefer: wait` stays below that.
            environment={**environment, "FACEPORT_MAX_WAIT_S": "25"},
            timeout=cdk.Duration.seconds(29),
            memory_mb=1024,
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.authorizer_function = python_function(
            self,
            "Authorizer",
            handler="functions.authorizer.handler.lambda_handler",
            description="faceport API-key authorizer: any of the seed APIs' key headers",
            environment=environment,
            memory_mb=256,
            timeout=cdk.Duration.seconds(10),
        )
        # Not cached: API Gateway caches only when every identity source is present, and a
        # key may come in any of six headers (auth.py). A cache keyed on one header would
        # refuse the other five before the authorizer runs.
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "KeyAuthorizer",
            handler=self.authorizer_function,
            identity_sources=[],
            results_cache_ttl=cdk.Duration.seconds(0),
        )
        self.rest_api = apigw.LambdaRestApi(
            self,
            "RestApi",
            handler=self.function,
            proxy=False,
            description="faceport face-swap API",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.DESTROY,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=BINARY_MEDIA_TYPES,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                tracing_enabled=True,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=list(cors_origins),
                allow_headers=list(CORS_ALLOW_HEADERS),
                allow_methods=list(CORS_ALLOW_METHODS),
                max_age=cdk.Duration.seconds(CORS_MAX_AGE_S),
            ),
        )
        integration = apigw.LambdaIntegration(self.function)
        # Everything goes through the authorizer except the API's own documentation. (A proxy
        # under the root adds its methods to the root too, with the options given here.)
        self.rest_api.root.add_proxy(default_integration=integration, any_method=False).add_method(
            "ANY",
            integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
        )
        self._add_dialect_routes(integration)
        docs = self.rest_api.root.add_resource("docs")
        docs.add_method("GET", integration)
        docs.add_proxy(default_integration=integration, any_method=False).add_method(
            "GET", integration
        )
        self.rest_api.root.add_resource("openapi.json").add_method("GET", integration)
        # An external provider's callback carries no API key: its per-task token is checked
        # by the API Lambda (faceport.service.provider_callback).
        # The API's URL built from its id, not from the stage: the workflow Lambda needs it
        # for callback links, and the stage depends (through the API Lambda's grants) on
        # the workflow, so `rest_api.url` would make a cycle.
        stack = cdk.Stack.of(self)
        self.url_for_callbacks = cdk.Fn.join(
            "",
            ["https://", self.rest_api.rest_api_id, ".execute-api.", stack.region, ".",
             stack.url_suffix, f"/{STAGE}"],
        )  # fmt: skip
        self.provider_callback = (
            self.rest_api.root.add_resource("v1")
            .add_resource("provider-callback")
            .add_method("POST", integration)
        )
        # API Gateway's own answers in our error envelope (the authorizer's refusals with
        # their stable code): faceport.api.native.errors decides how they look.
        for name, answer in gateway_responses().items():
            headers = {k: f"'{v}'" for k, v in answer.headers.items() if k != "Content-Type"}
            self.rest_api.add_gateway_response(
                name.title().replace("_", ""),
                type=getattr(apigw.ResponseType, name),
                status_code=str(answer.status),
                templates={"application/json": answer.body},
                response_headers=headers or None,
            )

    def _add_dialect_routes(self, integration: apigw.LambdaIntegration) -> None:
        """Every route of DIALECT_ROUTES, behind the key authorizer like the rest."""
        for method, path, _kind in DIALECT_ROUTES:
            self.rest_api.root.resource_for_path(path).add_method(
                method,
                integration,
                authorizer=self.authorizer,
                authorization_type=apigw.AuthorizationType.CUSTOM,
            )
