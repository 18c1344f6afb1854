"""The AWS orchestrator: one Step Functions execution per task, named by the task id.

A task waiting for its provider's callback sits in the state machine's AwaitCallback step;
that step's task token is kept on the task's item (`provider_token`), and `resume` (the
callback route) completes it, so the next step polls the provider at once."""

from __future__ import annotations

import json
import logging
from typing import Any

from faceport.adapters.aws.clients import AwsClients, error_code
from faceport.tasks import Task

logger = logging.getLogger(__name__)
# SendTask* answers for a token no step waits on any more (it timed out into a poll).
_GONE = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})


class StepFunctionsOrchestrator:
    """Orchestrator port over the task state machine (infra/statemachine/task.asl.json).

    The execution's name is the task id, so a second start of the same task is refused by
    Step Functions instead of running the task twice; cancel stops the execution.
    """

    def __init__(
        self,
        state_machine_arn: str,
        clients: AwsClients,
        engine_limits: dict[str, int],
        tasks_table: str = "",
    ) -> None:
        self._arn = state_machine_arn
        self._clients = clients
        self._table = tasks_table
        # Read by the state machine through HeartbeatSecondsPath/TimeoutSecondsPath.
        self._engine_limits = engine_limits

    def execution_arn(self, task_id: str) -> str:
        return self._arn.replace(":stateMachine:", ":execution:", 1) + f":{task_id}"

    def start(self, task: Task) -> None:
        payload: dict[str, Any] = {"task_id": task.id, "engine": self._engine_limits}
        try:
            self._clients.stepfunctions.start_execution(
                stateMachineArn=self._arn, name=task.id, input=json.dumps(payload)
            )
        except Exception as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise

    def cancel(self, task_id: str) -> None:
        try:
            self._clients.stepfunctions.stop_execution(
                executionArn=self.execution_arn(task_id),
                error="Canceled",
                cause="The task was canceled by its client.",
            )
        except Exception as exc:
            if error_code(exc) != "ExecutionDoesNotExist":
                raise

    def await_callback(self, task_id: str, token: str) -> bool:
        """Keep the AwaitCallback step's token on the running task; False if it ended."""
        try:
            self._clients.dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": task_id}},
                UpdateExpression="SET provider_token = :t",
                ConditionExpression="#s = :running",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":t": {"S": token}, ":running": {"S": "running"}},
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def resume(self, task_id: str) -> None:
        """Complete the task's AwaitCallback step, if one waits (else its poll comes anyway)."""
        item = self._clients.dynamodb.get_item(
            TableName=self._table,
            Key={"id": {"S": task_id}},
            ConsistentRead=True,
            ProjectionExpression="provider_token",
        ).get("Item")
        if not item or "provider_token" not in item:
            return
        try:
            self._clients.stepfunctions.send_task_success(
                taskToken=item["provider_token"]["S"], output="{}"
            )
        except Exception as exc:
            if error_code(exc) not in _GONE:
                raise
            logger.info("callback for %s: no step is waiting (%s)", task_id, error_code(exc))
