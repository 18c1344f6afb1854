"""The AWS shape, offline: moto for DynamoDB, S3, SNS, Lambda and Step Functions (which
executes the real ASL file), our Lambda handlers called in-process where moto would run
Lambda code, and a fake SageMaker async endpoint in front of the real serving contract.

`aws_world(...)` builds the whole flow the way infra/ deploys it: the tables from
infra/schema.py, two buckets, the success and error topics with the callback Lambda
subscribed, the workflow Lambda, and the state machine from infra/statemachine/.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.dynamodb.responses import DynamoHandler

from faceport.accounts import Caller
from faceport.adapters.aws import task_stream
from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.engine_container import video_runner
from faceport.adapters.aws.lambdas import handle_engine_notifications, handle_step
from faceport.adapters.aws.runtime import AwsRuntime, build_aws_runtime, build_task_stream
from faceport.engine_serving import make_engine_server
from faceport.ports import Engine
from faceport.settings import Settings
from infra import asl
from infra.schema import TABLES

REGION = "us-east-1"
ACCOUNT = "123456789012"
ENDPOINT = "faceport-engine"
WORKFLOW_FUNCTION = "faceport-workflow"
CALLBACK_FUNCTION = "faceport-engine-callback"


def create_tables(prefix: str = "faceport-", dynamodb: Any = None) -> dict[str, str]:
    """The tables of infra/schema.py in moto; returns {logical name: table name}."""
    dynamodb = dynamodb or boto3.client("dynamodb", region_name=REGION)
    names = {}
    for name, spec in TABLES.items():
        keys = [(spec.partition, "HASH")] + ([(spec.sort, "RANGE")] if spec.sort else [])
        attributes = {k for k, _ in keys}
        indexes = []
        for index in spec.indexes:
            index_keys = [(index.partition, "HASH")]
            if index.sort:
                index_keys.append((index.sort, "RANGE"))
            attributes |= {k for k, _ in index_keys}
            indexes.append(
                {
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": k, "KeyType": t} for k, t in index_keys],
                    "Projection": {"ProjectionType": "ALL"},
                }
            )
        extra: dict[str, Any] = {"GlobalSecondaryIndexes": indexes} if indexes else {}
        if spec.stream:
            extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream}
        names[name] = f"{prefix}{name}"
        dynamodb.create_table(
            TableName=names[name],
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
    return names


def route_lambdas(
    monkeypatch: pytest.MonkeyPatch, routes: dict[str, Callable[[dict[str, Any]], Any]]
) -> None:
    """Make moto's Lambda run our Python handlers in-process (no Docker): a raised exception
    comes back as a function error, `errorType` = its class name, as Lambda reports it."""

    def invoke(
        self: LambdaFunction, body: str, request_headers: Any, response_headers: Any
    ) -> bytes:
        handler = routes[self.function_name]
        try:
            result = handler(json.loads(body) if body else {})
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return json.dumps(error).encode()
        return json.dumps(result).encode()

    monkeypatch.setattr(LambdaFunction, "invoke", invoke)


@dataclass
class FakeAsyncEndpoint:
    """sagemaker-runtime's `invoke_endpoint_async`, as SageMaker does it: read the request
    from S3, POST it to the container (our real serving contract over loopback HTTP) on a
    background thread, store the answer at the output or failure location, and publish the
    notification on the success or error topic."""

    engine_url: tuple[str, int]
    output_bucket: str
    success_topic: str
    error_topic: str
    throttle_next: int = 0  # answer this many calls with ThrottlingException
    silent: bool = False  # accept calls but never answer (a lost or stuck engine)
    heartbeat: Callable[[str], bool] | None = None  # called while the engine works
    heartbeat_every_s: float = 0.3
    calls: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def invoke_endpoint_async(self, **kwargs: Any) -> dict[str, Any]:
        if self.throttle_next > 0:
            self.throttle_next -= 1
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "InvokeEndpointAsync")
        assert kwargs["EndpointName"] == ENDPOINT
        inference_id = kwargs.get("InferenceId") or str(uuid.uuid4())
        self.calls.append(inference_id)
        name = uuid.uuid4().hex
        output = f"s3://{self.output_bucket}/engine/outputs/{name}.out"
        failure = f"s3://{self.output_bucket}/engine/failures/{name}-error.out"
        if not self.silent:
            thread = threading.Thread(
                target=self._work, args=(kwargs, inference_id, output, failure), daemon=True
            )
            thread.start()
            self.threads.append(thread)
        return {"InferenceId": inference_id, "OutputLocation": output, "FailureLocation": failure}

    def _work(self, kwargs: dict[str, Any], inference_id: str, output: str, failure: str) -> None:
        s3 = boto3.client("s3", region_name=REGION)
        bucket, key = kwargs["InputLocation"][5:].split("/", 1)
        request = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        done = threading.Event()
        if self.heartbeat is not None:
            threading.Thread(target=self._beat, args=(inference_id, done), daemon=True).start()
        try:
            status, content_type, body = _post(self.engine_url, request)
        finally:
            done.set()
        location = output if status == 200 else failure
        out_bucket, out_key = location[5:].split("/", 1)
        s3.put_object(Bucket=out_bucket, Key=out_key, Body=body, ContentType=content_type)
        message: dict[str, Any] = {
            "awsRegion": REGION,
            "invocationStatus": "Completed" if status == 200 else "Failed",
            "requestParameters": {
                "endpointName": ENDPOINT,
                "inputLocation": kwargs["InputLocation"],
                "contentType": kwargs.get("ContentType"),
            },
            "inferenceId": inference_id,
            "eventVersion": "1.0",
            "eventSource": "aws:sagemaker",
            "eventName": "InferenceResult",
        }
        if status == 200:
            message["responseParameters"] = {"contentType": content_type, "outputLocation": output}
        else:
            message["failureReason"] = (
                f"ClientError: Received client error ({status}) from primary with message "
                f"{body.decode(errors='replace')!r}."
            )
        topic = self.success_topic if status == 200 else self.error_topic
        boto3.client("sns", region_name=REGION).publish(TopicArn=topic, Message=json.dumps(message))

    def _beat(self, inference_id: str, done: threading.Event) -> None:
        assert self.heartbeat is not None
        while not done.wait(self.heartbeat_every_s):
            self.heartbeat(inference_id)


def _post(address: tuple[str, int], body: bytes) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=60)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        return reply.status, reply.getheader("Content-Type") or "", reply.read()
    finally:
        connection.close()


def stream_records(table: str, after: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The records of `table`'s stream, as its Lambda event source would pass them on
    (`after`: the last sequence number seen per shard, updated in place)."""
    after = {} if after is None else after
    # In the region of the environment (the test's moto world).
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    # botocore now picks an account-based endpoint for streams, which moto does not serve.
    region = arn.split(":")[3]
    url = f"https://streams.dynamodb.{region}.amazonaws.com"
    streams = boto3.client("dynamodbstreams", region_name=region, endpoint_url=url)
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        shard_id = shard["ShardId"]
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after[shard_id]}
            if shard_id in after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **position)
        found = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        for record in found:
            record["eventSourceARN"] = arn
            after[shard_id] = record["dynamodb"]["SequenceNumber"]
        records += found
    return records


def as_lambda_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """boto3's stream records as a Lambda event (DynamoDB JSON, timestamps as numbers)."""
    for record in records:
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, int | float):
            record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
    return {"Records": records}


@dataclass
class StreamPump:
    """The tasks table's stream event source mapping: polls the stream and hands new
    records to the stream Lambda's handler (in-process), as Lambda would."""

    table: str
    handle: Callable[[dict[str, Any]], Any]
    every_s: float = 0.05
    stopped: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> StreamPump:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop polling and wait out a poll in flight: one left running past the moto
        context would go to the real AWS endpoint."""
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(10)

    def _run(self) -> None:
        after: dict[str, str] = {}
        while not self.stopped.wait(self.every_s):
            records = stream_records(self.table, after)
            if records:
                self.handle(as_lambda_records(records))


@dataclass
class AwsWorld:
    runtime: AwsRuntime
    endpoint: FakeAsyncEndpoint
    settings: Settings
    stream: StreamPump
    engine_server: ThreadingHTTPServer
    container_clients: AwsClients  # the engine container's own (its role's) clients

    def funded_caller(self, credits: int = 100) -> Caller:
        """A new account in the accounts table with `credits`, as the authorizer names it."""
        account = self.runtime.services.accounts.create_account("test")
        self.runtime.services.ledger.top_up(account.id, credits, "initial")
        return Caller(account.id)

    @property
    def sfn(self) -> Any:
        return self.runtime.clients.stepfunctions

    def execution(self, task_id: str) -> dict[str, Any]:
        arn = self.runtime.services.orchestrator.execution_arn(task_id)  # type: ignore[attr-defined]
        result: dict[str, Any] = self.sfn.describe_execution(executionArn=arn)
        return result

    def wait_for_execution(self, task_id: str, timeout_s: float = 20.0) -> dict[str, Any]:
        """The execution once it has stopped running."""
        deadline = threading.Event()
        timer = threading.Timer(timeout_s, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                execution = self.execution(task_id)
                if execution["status"] != "RUNNING":
                    return execution
                deadline.wait(0.05)
        finally:
            timer.cancel()
        raise AssertionError(f"execution of {task_id} still running after {timeout_s}s")


@contextmanager
def aws_world(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    *,
    heartbeat_s: int = 30,
    timeout_s: int = 60,
    settings: Settings | None = None,
) -> Iterator[AwsWorld]:
    """The whole AWS flow under moto, with `engine` behind the fake endpoint. From
    `settings`, the providers, routes and public URL are taken."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    config: Any = {"stepfunctions": {"execute_state_machine": True}}
    atomic_dynamodb_requests(monkeypatch)
    with mock_aws(config=config):
        world = _build(monkeypatch, engine, heartbeat_s, timeout_s, settings)
        try:
            yield world
        finally:
            world.stream.stop()
            for thread in world.endpoint.threads:
                thread.join(10)
            world.engine_server.shutdown()
            world.engine_server.server_close()


def atomic_dynamodb_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes each moto DynamoDB request atomic, as DynamoDB's are; the code under test still
    interleaves freely between requests. moto's backend is not thread-safe: its update_item
    of a new item stores the bare key before the update (a query from another thread, the
    stream pump's say, then reads an item without its attributes), and a transaction
    deep-copies tables that other threads are changing."""
    lock = threading.Lock()
    unlocked = DynamoHandler.call_action

    def call_action(handler: DynamoHandler) -> Any:
        with lock:
            return unlocked(handler)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)


def _build(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    heartbeat_s: int,
    timeout_s: int,
    given: Settings | None = None,
) -> AwsWorld:
    tables = create_tables()
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in ("faceport-inputs", "faceport-results"):
        s3.create_bucket(Bucket=bucket)
    sns = boto3.client("sns", region_name=REGION)
    success = sns.create_topic(Name="faceport-engine-success")["TopicArn"]
    error = sns.create_topic(Name="faceport-engine-error")["TopicArn"]
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="faceport-test",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lambdas = boto3.client("lambda", region_name=REGION)
    arns = {}
    for name in (WORKFLOW_FUNCTION, CALLBACK_FUNCTION):
        arns[name] = lambdas.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.lambda_handler",
            Code={"ZipFile": b"routed in-process by tests/support/aws.py"},
        )["FunctionArn"]
    for topic in (success, error):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arns[CALLBACK_FUNCTION])
    webhook_queue = boto3.client("sqs", region_name=REGION).create_queue(
        QueueName="faceport-webhooks"
    )["QueueUrl"]
    machine = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="faceport-tasks",
        definition=asl.render({"WorkflowFunctionArn": arns[WORKFLOW_FUNCTION]}),
        roleArn=role,
    )["stateMachineArn"]
    settings = Settings(
        tasks_table=tables["tasks"],
        accounts_table=tables["accounts"],
        idempotency_table=tables["idempotency"],
        webhooks_table=tables["webhooks"],
        webhook_queue_url=webhook_queue,
        inputs_bucket="faceport-inputs",
        results_bucket="faceport-results",
        state_machine_arn=machine,
        engine_endpoint=ENDPOINT,
        engine_heartbeat_s=heartbeat_s,
        engine_timeout_s=timeout_s,
        allow_private_urls=True,
        max_wait_s=20,
        progress_interval_s=0.1,  # short clips still show progress moving
    )
    if given is not None:
        settings = settings.model_copy(
            update={
                "providers": given.providers,
                "routes": given.routes,
                "public_url": given.public_url,
            }
        )
    # The container: image requests on the engine, video tasks against the moto world (its
    # own clients, as the container has its own process and role).
    container = AwsClients(region=REGION)
    engine_server = make_engine_server(
        "127.0.0.1", 0, engine, video_runner(settings, engine, container)
    )
    threading.Thread(target=engine_server.serve_forever, daemon=True).start()
    address = engine_server.server_address
    endpoint = FakeAsyncEndpoint(
        (str(address[0]), int(address[1])), "faceport-results", success, error
    )
    runtime = build_aws_runtime(settings, AwsClients(region=REGION, sagemaker_runtime=endpoint))
    route_lambdas(
        monkeypatch,
        {
            WORKFLOW_FUNCTION: lambda event: handle_step(runtime, event),
            CALLBACK_FUNCTION: lambda event: handle_engine_notifications(runtime, event),
        },
    )
    outbox = build_task_stream(settings, runtime.clients)
    pump = StreamPump(tables["tasks"], lambda event: task_stream.process(outbox, event))
    return AwsWorld(
        runtime=runtime,
        endpoint=endpoint,
        settings=settings,
        stream=pump.start(),
        engine_server=engine_server,
        container_clients=container,
    )


@contextmanager
def aws_world_served(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, settings: Settings, port: int
) -> Iterator[Any]:
    """`aws_world` with the API behind the local HTTP server on `port` (what API Gateway
    is on AWS), so that external providers can call back; yields a World of
    tests/integration/test_providers.py."""
    from faceport.adapters.local.file_blobs import FileBlobStore
    from faceport.adapters.local.gateway import local_edge
    from faceport.adapters.local.http_server import make_server
    from faceport.api.app import build_app
    from faceport.api.groups import ROUTE_GROUPS
    from tests.integration.test_providers import World
    from tests.support.api_client import new_account

    with aws_world(monkeypatch, engine, heartbeat_s=5, settings=settings) as world:
        services = world.runtime.services
        resolve = build_app(services).resolve
        handler = local_edge(resolve, services.accounts, services.rate_limiter, ROUTE_GROUPS)
        unused = FileBlobStore(settings.data_dir / "unused", "http://unused", b"x" * 32)
        server = make_server("127.0.0.1", port, handler, unused, 4 << 20)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            key = new_account(services.accounts, services.ledger, credits=1_000_000)
            yield World(f"http://127.0.0.1:{port}", key, services)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)
