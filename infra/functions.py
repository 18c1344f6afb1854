"""One way to make a faceport Lambda: the shared asset, Python 3.11, X-Ray, a log group
with a retention, and the deployment's names as FACEPORT_* environment variables."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import lambda_code


def python_function(
    scope: Construct,
    construct_id: str,
    *,
    handler: str,
    environment: dict[str, str],
    description: str,
    memory_mb: int = 512,
    timeout: cdk.Duration | None = None,
) -> lambda_.Function:
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=lambda_.Runtime.PYTHON_3_11,
        architecture=lambda_.Architecture.X86_64,
        handler=handler,
        code=lambda_code(),
        memory_size=memory_mb,
        timeout=timeout or cdk.Duration.seconds(30),
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        environment={"POWERTOOLS_SERVICE_NAME": "faceport", **environment},
    )
