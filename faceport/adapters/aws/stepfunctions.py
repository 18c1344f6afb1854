"""The AWS orchestrator: one Step Functions execution per task, named by the task id."""

from __future__ import annotations

import json
from typing import Any

from faceport.adapters.aws.clients import AwsClients, error_code
from faceport.tasks import Task


class StepFunctionsOrchestrator:
    """Orchestrator port over the task state machine (infra/statemachine/task.asl.json).

    The execution's name is the task id, so a second start of the same task is refused by
    Step Functions instead of running the task twice; cancel stops the execution.
    """

    def __init__(
        self, state_machine_arn: str, clients: AwsClients, engine_limits: dict[str, int]
    ) -> None:
        self._arn = state_machine_arn
        self._clients = clients
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
