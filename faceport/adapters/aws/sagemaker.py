"""The engine on a SageMaker asynchronous-inference endpoint.

`dispatch` (a `.waitForTaskToken` step of the state machine) writes the `EngineRequest`
to S3, keeps the step's task token on the task's DynamoDB item (the inference id is the
task id; a token can be longer than the 1024 characters `CustomAttributes` allows), and
calls InvokeEndpointAsync. SageMaker answers later on an SNS topic; the callback Lambda
hands each notification to `on_notification`, which finds the token by inference id and
calls SendTaskSuccess (with where the output is) or SendTaskFailure (with the engine's
error code). `heartbeat` lets whatever watches a long call keep the step alive.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from faceport.adapters.aws.clients import AwsClients, error_code
from faceport.adapters.aws.observability import publish
from faceport.adapters.aws.s3_blobs import read_object, split_s3_uri
from faceport.backends import ENGINE_NAME, PENDING, Job, Started, engine_request
from faceport.engine_protocol import JSON, EngineRequest, error_from_document
from faceport.errors import EngineFailed, FaceportError, NotFound
from faceport.operations import SAGEMAKER_ASYNC

logger = logging.getLogger(__name__)

# SendTaskFailure's error name is this prefix and our error code (the code stays readable
# in the execution history, and needs no parsing of the cause).
ERROR_PREFIX = "faceport."
# SendTask* answers for a token whose execution has ended (canceled, timed out): nothing
# is waiting any more, which is fine.
_GONE = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})
_FAILURE_LOCATION_READS = 10


@dataclass(frozen=True)
class EngineCall:
    token: str
    failure_location: str | None
    sent_at: float | None = None  # epoch seconds of the invoke


class SageMakerAsyncEngine:
    """The backend port on the endpoint: `start` dispatches a job, whose outcome comes back
    as a notification that completes the job's callback (a Step Functions task token)."""

    kind = SAGEMAKER_ASYNC
    name = ENGINE_NAME

    def __init__(
        self,
        endpoint: str,
        *,
        tasks_table: str,
        requests_bucket: str,
        clients: AwsClients,
        timeout_s: int,
    ) -> None:
        self._endpoint = endpoint
        self._table = tasks_table
        self._bucket = requests_bucket
        self._clients = clients
        self._timeout_s = timeout_s

    # -- dispatch (the workflow's `dispatch` step) ------------------------------------------

    def start(self, job: Job) -> Started:
        """Dispatch the job; `PENDING`, or None when the task is no longer running."""
        if job.callback is None:
            raise FaceportError("The SageMaker backend needs a callback (a task token).")
        request = engine_request(job.task, job.blobs)
        return PENDING if self.dispatch(job.task.id, request, job.callback) else None

    def dispatch(self, task_id: str, request: EngineRequest, task_token: str) -> bool:
        """Start the engine on `request`; its notification will complete `task_token`.
        False when the task is no longer running (nothing was started)."""
        key = f"engine/requests/{task_id}.json"
        self._clients.s3.put_object(
            Bucket=self._bucket, Key=key, Body=request.model_dump_json().encode(), ContentType=JSON
        )
        # The token is stored before the call, so that even an instant answer finds it; the
        # time too, for the callback's EngineSeconds (queue wait and run on the endpoint).
        values = {":t": {"S": task_token}, ":at": {"N": f"{time.time():.3f}"}}
        if not self._remember(task_id, "SET engine_token = :t, engine_sent_at = :at", values):
            return False
        reply = self._clients.sagemaker_runtime.invoke_endpoint_async(
            EndpointName=self._endpoint,
            InputLocation=f"s3://{self._bucket}/{key}",
            ContentType=JSON,
            InferenceId=task_id,
            InvocationTimeoutSeconds=min(self._timeout_s, 3600),
        )
        failure = reply.get("FailureLocation")
        if failure:
            self._remember(task_id, "SET engine_failure_location = :f", {":f": {"S": failure}})
        return True

    def _remember(self, task_id: str, update: str, values: dict[str, Any]) -> bool:
        try:
            self._clients.dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": task_id}},
                UpdateExpression=update,
                ConditionExpression="#s = :running",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={**values, ":running": {"S": "running"}},
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def call(self, inference_id: str) -> EngineCall | None:
        """The waiting step's token (and where a failure body goes) for an inference."""
        item = self._clients.dynamodb.get_item(
            TableName=self._table,
            Key={"id": {"S": inference_id}},
            ConsistentRead=True,
            ProjectionExpression="engine_token, engine_failure_location, engine_sent_at",
        ).get("Item")
        if not item or "engine_token" not in item:
            return None
        failure = item.get("engine_failure_location", {}).get("S")
        sent_at = float(item["engine_sent_at"]["N"]) if "engine_sent_at" in item else None
        return EngineCall(item["engine_token"]["S"], failure, sent_at)

    # -- completion (the callback Lambda on the success and error topics) -------------------

    def on_notification(self, message: dict[str, Any]) -> None:
        """Complete the waiting step of the inference `message` is about."""
        inference_id = str(message.get("inferenceId", ""))
        call = self.call(inference_id)
        if call is None:
            logger.warning("no waiting step for inference %r; ignored", inference_id)
            return
        response = message.get("responseParameters") or {}
        completed = message.get("invocationStatus") == "Completed"
        if call.sent_at is not None:
            outcome = "completed" if completed else "failed"
            publish("EngineSeconds", time.time() - call.sent_at, "Seconds", outcome=outcome)
        if completed:
            output = {
                "output_location": response["outputLocation"],
                "content_type": response.get("contentType", "application/octet-stream"),
            }
            self._send("send_task_success", taskToken=call.token, output=json.dumps(output))
            return
        error = self._failure(
            message, response.get("failureLocation") or self._failure_location(inference_id, call)
        )
        self._send(
            "send_task_failure",
            taskToken=call.token,
            error=f"{ERROR_PREFIX}{error.code}",
            cause=error.message,
        )

    def _failure_location(self, inference_id: str, call: EngineCall) -> str | None:
        """Where the engine's error body is. `dispatch` records it right after the invoke
        returns; a very quick failure can be reported before that write lands."""
        for _ in range(_FAILURE_LOCATION_READS):
            if call.failure_location:
                return call.failure_location
            time.sleep(0.2)
            call = self.call(inference_id) or call
        return call.failure_location

    def _failure(self, message: dict[str, Any], location: str | None) -> FaceportError:
        """The engine's own error (its response body, kept at the failure location), or
        SageMaker's reason when the engine never answered."""
        reason = str(message.get("failureReason") or "The engine failed.")
        if location:
            try:
                return error_from_document(read_object(self._clients, *split_s3_uri(location)))
            except NotFound:
                pass
        logger.error("engine call failed without an answer of its own: %s", reason)
        return EngineFailed()

    def heartbeat(self, inference_id: str) -> bool:
        """Tell the waiting step that the engine is still working; False if none waits."""
        call = self.call(inference_id)
        return call is not None and self._send("send_task_heartbeat", taskToken=call.token)

    def _send(self, method: str, **kwargs: Any) -> bool:
        try:
            getattr(self._clients.stepfunctions, method)(**kwargs)
        except Exception as exc:
            if error_code(exc) in _GONE:
                logger.info("%s: the step is no longer waiting (%s)", method, error_code(exc))
                return False
            raise
        return True
