"""The synthesized CloudFormation template: every unit, its key properties, encryption and
TLS rules, and least-privilege grants."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from faceport.adapters.local.runtime import LocalRuntime
from faceport.api.app import build_app
from faceport.api.groups import ROUTE_GROUPS
from faceport.settings import AwsSettings
from infra import asl
from infra.api import BINARY_MEDIA_TYPES, DIALECT_ROUTES
from infra.schema import TABLES


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def test_tables_match_the_schema_with_pitr_and_encryption(template: Template) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    assert len(tables) == len(TABLES)
    by_keys = {}
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        keys = tuple(k["AttributeName"] for k in props["KeySchema"])
        by_keys[keys] = props
    tasks = by_keys[("id",)]
    assert tasks["GlobalSecondaryIndexes"][0]["IndexName"] == "by_account"
    assert [k["AttributeName"] for k in tasks["GlobalSecondaryIndexes"][0]["KeySchema"]] == [
        "account_id",
        "id",
    ]
    ttl = sorted(
        p["TimeToLiveSpecification"]["AttributeName"]
        for p in by_keys.values()
        if "TimeToLiveSpecification" in p
    )
    assert ttl == ["expires_at", "expires_at"]  # idempotency and webhooks


def test_buckets_are_private_encrypted_tls_only_and_expire(template: Template) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3  # inputs, results, access logs
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert any("ExpirationInDays" in rule for rule in props["LifecycleConfiguration"]["Rules"])
    policies = resources(template, "AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_webhook_queue_has_a_dead_letter_queue_and_an_alarm(template: Template) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    assert len(queues) == 2
    redrive = [
        q["Properties"]["RedrivePolicy"]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    ]
    assert len(redrive) == 1 and redrive[0]["maxReceiveCount"] == 8
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1},
    )


def test_the_webhook_sender_consumes_the_queue_with_per_message_failures(
    template: Template,
) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    (sender_id,) = [
        name
        for name, f in functions.items()
        if f["Properties"]["Handler"] == "functions.webhooks.handler.lambda_handler"
    ]
    (props,) = [
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": sender_id}
    ]
    assert props["FunctionName"] == {"Ref": sender_id}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (queue,) = [
        q
        for q in resources(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    ]
    timeout = functions[sender_id]["Properties"]["Timeout"]
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_the_api_has_throttling_access_logs_tracing_and_cors(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": [
                Match.object_like({"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100})
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {"HttpMethod": "OPTIONS", "Integration": Match.object_like({"Type": "MOCK"})},
    )
    template.has_resource_properties(
        "AWS::ApiGateway::Method", {"HttpMethod": "ANY", "AuthorizationType": "CUSTOM"}
    )


def test_every_route_but_the_docs_needs_the_key_authorizer(template: Template) -> None:
    authorizers = resources(template, "AWS::ApiGateway::Authorizer")
    ((authorizer_id, authorizer),) = authorizers.items()
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0
    methods = [m["Properties"] for m in resources(template, "AWS::ApiGateway::Method").values()]
    guarded = [m for m in methods if m["AuthorizationType"] == "CUSTOM"]
    open_ = [m for m in methods if m["AuthorizationType"] == "NONE"]
    assert all(m["AuthorizerId"] == {"Ref": authorizer_id} for m in guarded)
    # Open: the docs (GET), CORS preflights, and the providers' token-checked callback.
    callbacks = [m for m in open_ if m["HttpMethod"] == "POST"]
    assert len(callbacks) == 1
    assert guarded and all(m["HttpMethod"] in ("GET", "OPTIONS", "POST") for m in open_)
    denied = [
        r["Properties"]
        for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "ACCESS_DENIED"
    ]
    assert denied[0]["StatusCode"] == "401"
    assert "$context.authorizer.error_code" in denied[0]["ResponseTemplates"]["application/json"]


def test_lambdas_run_python_311_traced_with_their_settings(template: Template) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values())
    assert handlers == [
        "functions.authorizer.handler.lambda_handler",
        "functions.engine_callback.handler.lambda_handler",
        "functions.status.handler.lambda_handler",
        "functions.submit.handler.lambda_handler",
        "functions.task_stream.handler.lambda_handler",
        "functions.webhooks.handler.lambda_handler",
        "functions.workflow.handler.lambda_handler",
    ]
    for function in functions.values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.11"
        assert props["TracingConfig"] == {"Mode": "Active"}
        env = props["Environment"]["Variables"]
        # Derived from the settings model: every FACEPORT_* variable is a field of it, and
        # together they are a complete AwsSettings (each required name is there).
        ours = {
            name.removeprefix("FACEPORT_").lower(): value if isinstance(value, str) else "ref"
            for name, value in env.items()
            if name.startswith("FACEPORT_")
        }
        assert set(ours) <= set(AwsSettings.model_fields), props["Handler"]
        AwsSettings.model_validate(ours)


def test_the_state_machine_is_the_asl_file_with_logging_and_tracing(template: Template) -> None:
    machines = resources(template, "AWS::StepFunctions::StateMachine")
    (machine,) = machines.values()
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert set(props["DefinitionSubstitutions"]) == asl.placeholders()
    definition = json.loads(asl.DEFINITION.read_text())
    assert "QueryLanguage" not in definition  # JSONPath, the default
    dispatch = definition["States"]["Dispatch"]
    assert dispatch["Resource"].endswith("waitForTaskToken")
    assert dispatch["HeartbeatSecondsPath"] and dispatch["TimeoutSecondsPath"]
    for name, state in definition["States"].items():
        if state["Type"] == "Task" and name != "MarkFailed":
            assert state["Catch"][-1] == {**state["Catch"][-1], "Next": "MarkFailed"}
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"]
            assert "TransientError" in state["Retry"][0]["ErrorEquals"]


def test_the_async_endpoint_writes_to_s3_notifies_sns_and_scales_to_zero(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "AsyncInferenceConfig": {
                "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 1},
                "OutputConfig": {
                    "S3OutputPath": Match.any_value(),
                    "S3FailurePath": Match.any_value(),
                    "NotificationConfig": {
                        "SuccessTopic": Match.any_value(),
                        "ErrorTopic": Match.any_value(),
                    },
                },
            }
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 0, "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"},
    )
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    kinds = sorted(p["Properties"]["PolicyType"] for p in policies.values())
    assert "TargetTrackingScaling" in kinds and "StepScaling" in kinds
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "HasBacklogWithoutCapacity"}
    )
    subscriptions = resources(template, "AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Protocol"] for s in subscriptions.values()) == [
        "lambda",
        "lambda",
    ]
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {"PrimaryContainer": Match.object_like({"Image": Match.any_value()})},
    )


def test_monitoring_alarms_and_dashboard(template: Template) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert {"ExecutionsFailed", "Errors", "5XXError", "ApproximateBacklogSize"} <= metrics
    errors = [a for a in alarms.values() if a["Properties"].get("MetricName") == "Errors"]
    assert len(errors) == 7  # one per Lambda
    for alarm in alarms.values():
        if alarm["Properties"].get("MetricName") != "HasBacklogWithoutCapacity":
            assert alarm["Properties"]["AlarmActions"], alarm
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def _statements(template: Template) -> list[dict[str, Any]]:
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_no_wildcard_actions_and_data_grants_name_their_resources(template: Template) -> None:
    for statement in _statements(template):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        for action in actions:
            assert action != "*" and not action.endswith(":*"), statement
        data = [
            a
            for a in actions
            if a.split(":")[0] in ("s3", "dynamodb", "sqs", "states", "sagemaker")
        ]
        # ListStreams has no resource type in IAM (the stream event source needs it).
        if data and data != ["dynamodb:ListStreams"]:
            assert statement["Resource"] != "*", statement


def role_statements(template: Template, handler: str) -> list[dict[str, Any]]:
    """The IAM statements of the role of the Lambda with `handler`."""
    functions = resources(template, "AWS::Lambda::Function")
    role = next(
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in functions.values()
        if f["Properties"]["Handler"] == handler
    )
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found |= set(action if isinstance(action, list) else [action])
    return found


def grants_on(statements: list[dict[str, Any]], logical_id: str) -> set[str]:
    """The actions granted on the resource with `logical_id` (or under it)."""
    return actions_of([s for s in statements if logical_id in json.dumps(s["Resource"])])


def logical_id(template: Template, kind: str, test: Any) -> str:
    (found,) = [name for name, r in resources(template, kind).items() if test(r["Properties"])]
    return found


def tasks_table(template: Template) -> str:
    return logical_id(
        template,
        "AWS::DynamoDB::Table",
        lambda p: [k["AttributeName"] for k in p["KeySchema"]] == ["id"],
    )


def test_the_submit_lambda_starts_work_but_cannot_invoke_the_engine_or_complete_steps(
    template: Template,
) -> None:
    actions = actions_of(role_statements(template, "functions.submit.handler.lambda_handler"))
    assert "states:StartExecution" in actions and "states:StopExecution" in actions
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"} <= actions
    assert "sagemaker:InvokeEndpointAsync" not in actions
    assert "states:SendTaskSuccess" not in actions
    assert not any(a.startswith("s3:Delete") for a in actions)


def test_the_status_lambda_reads_signs_and_counts_requests_only(template: Template) -> None:
    statements = role_statements(template, "functions.status.handler.lambda_handler")
    actions = actions_of(statements)
    writes = {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
              "dynamodb:PartiQLUpdate"}  # fmt: skip
    assert not actions & writes
    assert not any(a.split(":")[0] in ("states", "sagemaker", "sqs") for a in actions)
    assert not any(a.startswith("s3:Put") or a.startswith("s3:Delete") for a in actions)
    # Tasks: read only (no hold, no status change); results: read, so links it signs work.
    assert "dynamodb:UpdateItem" not in grants_on(statements, tasks_table(template))
    assert {"dynamodb:GetItem", "dynamodb:Query"} <= grants_on(statements, tasks_table(template))
    assert "s3:GetObject*" in actions
    # Its one write: the per-second request counters of the rate limit, nothing else.
    (update,) = [s for s in statements if "dynamodb:UpdateItem" in json.dumps(s["Action"])]
    assert update["Action"] == "dynamodb:UpdateItem"
    assert update["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*"]}}


def test_the_tasks_table_streams_to_the_lambda_that_queues_final_events(
    template: Template,
) -> None:
    tasks = resources(template, "AWS::DynamoDB::Table")[tasks_table(template)]
    assert tasks["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    stream_fn = logical_id(
        template,
        "AWS::Lambda::Function",
        lambda p: p["Handler"] == "functions.task_stream.handler.lambda_handler",
    )
    (mapping,) = [
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": stream_fn}
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [tasks_table(template), "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in mapping["DestinationConfig"]
    statements = role_statements(template, "functions.task_stream.handler.lambda_handler")
    assert "sqs:SendMessage" in actions_of(statements)
    assert "dynamodb:GetRecords" in grants_on(statements, tasks_table(template))
    # Only the stream writes final events: no other Lambda queues after its task write.
    for handler in ("functions.workflow.handler.lambda_handler",):
        assert "sqs:SendMessage" not in actions_of(role_statements(template, handler))


def test_binary_uploads_reach_the_lambdas_base64_encoded(template: Template) -> None:
    (api,) = resources(template, "AWS::ApiGateway::RestApi").values()
    types = api["Properties"]["BinaryMediaTypes"]
    assert {"multipart/form-data", "image/*", "video/*"} <= set(types)
    assert "application/json" not in types


def test_every_dialect_route_is_a_guarded_method_and_multipart_is_binary(
    template: Template, runtime: LocalRuntime
) -> None:
    (api,) = resources(template, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["BinaryMediaTypes"] == BINARY_MEDIA_TYPES
    assert "multipart/form-data" in BINARY_MEDIA_TYPES
    paths = {
        r_id: r["Properties"]["PathPart"]
        for r_id, r in resources(template, "AWS::ApiGateway::Resource").items()
    }
    guarded = {
        (m["Properties"]["HttpMethod"], paths.get(m["Properties"]["ResourceId"].get("Ref", "")))
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["AuthorizationType"] == "CUSTOM"
    }
    for route in DIALECT_ROUTES:
        assert (route.method, route.path.rsplit("/", 1)[1]) in guarded, route
    # The table lists every documented dialect route of the resolver, and nothing else.
    schema = json.loads(build_app(runtime.services).get_openapi_json_schema())
    documented = {
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        if ROUTE_GROUPS.for_path(path).name != "native"
        for method in ops
    }
    listed = {(r.method, r.path) for r in DIALECT_ROUTES if r.documented}
    assert documented == listed


def test_providers_from_context_reach_the_lambdas_with_their_secrets_only() -> None:
    import pytest
    from aws_cdk.assertions import Template

    from app import build_app

    providers = {"heygen": {"kind": "heygen", "base_url": "https://api.heygen.com",
                            "api_key_secret": "faceport/heygen"}}  # fmt: skip
    context = {
        "aws:cdk:bundling-stacks": [],
        "faceport:providers": providers,
        "faceport:routes": '{"video_face_swap": ["heygen"]}',
    }
    _app, stack = build_app(context)
    template = Template.from_stack(stack)
    functions = resources(template, "AWS::Lambda::Function").values()
    workflow = next(f for f in functions if "workflow" in f["Properties"]["Handler"])
    env = workflow["Properties"]["Environment"]["Variables"]
    assert json.loads(env["FACEPORT_PROVIDERS"]) == providers
    assert json.loads(env["FACEPORT_ROUTES"]) == {"video_face_swap": ["heygen"]}
    assert "FACEPORT_PUBLIC_URL" in env
    reads = [s for s in _statements(template) if "secretsmanager:GetSecretValue" in s["Action"]]
    assert len(reads) == 2  # the workflow's and the API's, on that one secret
    assert "faceport/heygen" in json.dumps(reads[0]["Resource"])
    # The callback route wakes the AwaitCallback step: the API may complete steps, only here.
    assert any(s["Action"] == "states:SendTaskSuccess" for s in _statements(template))
    plain = {"heygen": {**providers["heygen"], "api_key": "sk-1"}}
    del plain["heygen"]["api_key_secret"]
    with pytest.raises(ValueError, match="api_key_secret"):
        build_app({**context, "faceport:providers": plain})
