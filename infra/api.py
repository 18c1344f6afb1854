"""API: API Gateway (REST) -> two API Lambdas running the Powertools resolver the local
server runs: the submit Lambda (every route that creates or changes work, and the docs)
and the status Lambda (task queries), with throttling, JSON access logs, CORS and the
API-key REQUEST authorizer. Which route goes where is each route group's declaration
(`RouteGroup.routes`); see docs/ARCHITECTURE.md, "Two API Lambdas"."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from constructs import Construct

from faceport.api.groups import ROUTE_GROUPS
from faceport.api.headers import CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_MAX_AGE_S
from faceport.api.native.errors import gateway_responses
from faceport.api.route_group import ApiRoute, RouteKind
from infra.functions import python_function

# The seed dialects' routes (../shared/DIALECTS.md), as each dialect package declares them.
DIALECT_ROUTES: tuple[ApiRoute, ...] = tuple(
    route for group in ROUTE_GROUPS.groups if group.name != "native" for route in group.routes
)
# The API's one stage (its URL path prefix).
STAGE = "v1"
# Bodies API Gateway passes on base64-encoded (Powertools decodes them): uploads of the
# dialects that take files. JSON stays text.
BINARY_MEDIA_TYPES = ["multipart/form-data", "application/octet-stream", "image/*", "video/*"]


def api_routes() -> tuple[ApiRoute, ...]:
    """Every route of every route group, with the Lambda kind that answers it."""
    return tuple(route for group in ROUTE_GROUPS.groups for route in group.routes)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: dict[str, str],
        submit_environment: dict[str, str],
        rate_limit: int,
        burst_limit: int,
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        # API Gateway gives up after 29 s; `Prefer: wait` stays below that.
        self.submit_function = python_function(
            self,
            "Submit",
            handler="functions.submit.handler.lambda_handler",
            description="faceport submit: every route that creates or changes work, the docs",
            environment=submit_environment,
            timeout=cdk.Duration.seconds(29),
            memory_mb=1024,
        )
        self.status_function = python_function(
            self,
            "Status",
            handler="functions.status.handler.lambda_handler",
            description="faceport status: task, list, delivery and account queries",
            environment=environment,
            timeout=cdk.Duration.seconds(10),
            memory_mb=512,
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
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
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
        self._add_routes()
        # The API's URL built from its id, not from the stage: the workflow Lambda needs it
        # for callback links, and the stage depends (through the API Lambda's grants) on
        # the workflow, so `rest_api.url` would make a cycle.
        stack = cdk.Stack.of(self)
        self.url_for_callbacks = cdk.Fn.join(
            "",
            ["https://", self.rest_api.rest_api_id, ".execute-api.", stack.region, ".",
             stack.url_suffix, f"/{STAGE}"],
        )  # fmt: skip
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

    def _add_routes(self) -> None:
        """Each declared route to its Lambda, behind the authorizer. Every other method and
        path (unknown routes answered in the group's envelope) goes to the status Lambda,
        which changes nothing; the documentation is public and describes every route, so
        the submit Lambda (which has them all) serves it, and the playground's pages."""
        integrations: dict[RouteKind, apigw.LambdaIntegration] = {
            # One invoke permission per Lambda for all its methods, not one per method: with
            # the dialects' routes the per-method ones pass CloudFormation's 500-resource cap.
            "submit": apigw.LambdaIntegration(
                self.submit_function, scope_permission_to_method=False, allow_test_invoke=False
            ),
            "query": apigw.LambdaIntegration(
                self.status_function, scope_permission_to_method=False, allow_test_invoke=False
            ),
        }
        root = self.rest_api.root

        def guarded(resource: apigw.IResource, method: str, kind: RouteKind) -> None:
            resource.add_method(
                method,
                integrations[kind],
                authorizer=self.authorizer,
                authorization_type=apigw.AuthorizationType.CUSTOM,
            )

        guarded(root, "ANY", "query")
        guarded(root.add_resource("{proxy+}"), "ANY", "query")
        resources: dict[str, apigw.IResource] = {}
        for route in api_routes():
            at = root.resource_for_path(route.path)
            if ROUTE_GROUPS.needs_api_key(route.path):
                guarded(at, route.method, route.kind)
            else:  # a provider's callback: its per-task token is checked by the Lambda
                self.provider_callback = at.add_method(route.method, integrations[route.kind])
            parts = route.path.strip("/").split("/")
            for depth in range(1, len(parts) + 1):
                path = "/" + "/".join(parts[:depth])
                resources[path] = root.resource_for_path(path)
        # A known path with another method is not matched by the greedy proxy.
        for resource in resources.values():
            guarded(resource, "ANY", "query")
        docs_integration = integrations["submit"]
        docs = root.add_resource("docs")
        docs.add_method("GET", docs_integration)
        docs.add_resource("{proxy+}").add_method("GET", docs_integration)
        root.add_resource("openapi.json").add_method("GET", docs_integration)
        # The playground's pages (`/`, `/playground/...`) are the submit Lambda's too.
        guarded(root, "GET", "submit")
        playground = root.add_resource("playground")
        guarded(playground, "GET", "submit")
        guarded(playground.add_resource("{proxy+}"), "GET", "submit")
