# ruff: noqa: E501  (rule ids and reasons are long literals; wrapping them helps nobody)
"""cdk-nag AwsSolutions findings we accept, each by its exact id and with the reason.
Anything not acknowledged here fails the synth (and tests/infra/test_nag.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from constructs import IConstruct

if TYPE_CHECKING:
    from infra.stack import FaceportStack

_RULES: dict[str, str] = {
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]": "The AWS-maintained minimal policy for a Lambda's own log stream.",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]": "The AWS-maintained policy for API Gateway's account-level logging role.",
    "AwsSolutions-L1": "Python 3.11 is the project's version (pyproject requires-python; the engine's mediapipe 0.10.21 wheels); the Lambdas run what the tests run.",
    "AwsSolutions-APIG2": "Every body is validated in the Lambda by the pydantic models that also make the OpenAPI document, with faceport's stable error codes.",
    "AwsSolutions-APIG3": "WAF is a per-deployment cost choice; the stage throttles and input URLs are SSRF-checked in code. Attach a web ACL to the stage where required.",
    "AwsSolutions-COG4": "Clients authenticate with API keys through a REQUEST authorizer, not Cognito user pools.",
    "AwsSolutions-SNS2": "The engine and alarm topics carry S3 locations, inference ids and alarm states, no customer data; SSE with the AWS-managed key would stop SageMaker and CloudWatch from publishing.",
    "AwsSolutions-SM1": "The engine needs no network beyond SageMaker's own S3 I/O, and this stack has no VPC to put it in.",
    "AwsSolutions-SM2": "Nothing sensitive persists on the endpoint's volume; requests and results live in encrypted S3 buckets.",
    "AwsSolutions-SM3": "Same as SM2: the endpoint keeps no data at rest of its own.",
    "AwsSolutions-SQS3": "The webhook dead-letter queue is itself the end of the line.",
    "AwsSolutions-S1": "The access-log bucket: logging it into itself would loop.",
    "AwsSolutions-IAM5[Resource::*]": "Only where the API has no resource: X-Ray PutTraceSegments/PutTelemetryRecords (Lambda and Step Functions tracing), ecr:GetAuthorizationToken, dynamodb:ListStreams (the tasks stream's event source), and cloudwatch:PutMetricData limited by a namespace condition.",
    "AwsSolutions-IAM5[Action::s3:Abort*]": "CDK's put grant: aborting our own multipart uploads, on one bucket prefix.",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]": "CDK's read-write grant on the results/ prefix: a canceled task's result is deleted.",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]": "CDK's read grant (bucket location and versioning), on one bucket.",
    "AwsSolutions-IAM5[Action::s3:GetObject*]": "CDK's read grant (object and its version), on one bucket prefix.",
    "AwsSolutions-IAM5[Action::s3:List*]": "CDK's read grant: listing one bucket (a missing key is then a 404, not a 403).",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/*]": "SageMaker names the endpoint's log group and streams itself, under this prefix.",
}


def acknowledge_findings(stack: FaceportStack) -> None:
    validations = cdk.Validations.of(stack)
    for rule, reason in _RULES.items():
        validations.acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
    storage, workflow = stack.storage, stack.workflow
    inputs, results = _arn(stack, storage.inputs), _arn(stack, storage.results)
    prefix_grants = {
        f"{inputs}/inputs/*": "Uploaded and fetched inputs, one prefix of the inputs bucket.",
        f"{inputs}/engine/requests/*": "Engine requests, one prefix of the inputs bucket.",
        f"{results}/results/*": "Task results, one prefix of the results bucket.",
        f"{results}/engine/outputs/*": "The endpoint's answers, one prefix of the results bucket.",
        f"{results}/engine/failures/*": "The endpoint's error bodies, one prefix of the results bucket.",
        f"{_arn(stack, storage.tables['tasks'])}/index/*": "The tasks table's by_account index (listing an account's tasks).",
        f"{_arn(stack, workflow.function)}:*": "The state machine may invoke any version of the workflow Lambda (CDK's invoke grant).",
    }
    for resource, reason in prefix_grants.items():
        validations.acknowledge(
            cdk.Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{resource}]", reason=reason)
        )
    stop = (
        'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,'
        '{"Fn::Split":[":",{"Ref":"' + _logical(stack, workflow.state_machine) + '"}]}]}:*'
    )
    validations.acknowledge(
        cdk.Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::{stop}]",
            reason="StopExecution on executions of the task state machine (named by task id).",
        )
    )
    docs = (
        stack.api.rest_api.root.get_resource("docs"),
        stack.api.rest_api.root.get_resource("openapi.json"),
    )
    for doc in docs:
        assert doc is not None
        cdk.Validations.of(doc).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions-APIG4", reason="The API's documentation is public.")
        )
    cdk.Validations.of(stack.api.provider_callback).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-APIG4",
            reason="Providers call back without an API key; the per-task token is checked.",
        )
    )


def _logical(stack: cdk.Stack, construct: IConstruct) -> str:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement)
    logical_id: str = stack.resolve(stack.get_logical_id(child))
    return logical_id


def _arn(stack: cdk.Stack, construct: IConstruct) -> str:
    return f"<{_logical(stack, construct)}.Arn>"
