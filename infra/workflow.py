"""Workflow: the task state machine (Standard, from infra/statemachine/task.asl.json) and
the workflow Lambda whose steps it calls."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import asl
from infra.functions import python_function


def state_machine_name(stack: cdk.Stack) -> str:
    """A name of our own, so that the Lambdas' grants and settings can name the machine's
    ARN without referring to it (it refers to the workflow Lambda: a cycle otherwise)."""
    return f"{stack.stack_name}-tasks"


def state_machine_arn(stack: cdk.Stack) -> str:
    return stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=state_machine_name(stack),
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


class Workflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, environment: dict[str, str]) -> None:
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "Steps",
            handler="functions.workflow.handler.lambda_handler",
            description="faceport workflow steps: prepare, dispatch, collect, finalize, fail",
            environment=environment,
            timeout=cdk.Duration.seconds(90),
            memory_mb=1024,
        )
        log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        stack = cdk.Stack.of(self)
        self.state_machine_name = state_machine_name(stack)
        self.state_machine_arn = state_machine_arn(stack)
        self.state_machine = sfn.StateMachine(
            self,
            "Tasks",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(asl.DEFINITION)),
            definition_substitutions={"WorkflowFunctionArn": self.function.function_arn},
            timeout=cdk.Duration.hours(3),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        self.function.grant_invoke(self.state_machine)

    def grant_task_response(self, grantee: iam.IGrantable) -> None:
        """SendTaskSuccess/Failure/Heartbeat on this machine's steps (by ARN, no reference)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "states:SendTaskSuccess",
                "states:SendTaskFailure",
                "states:SendTaskHeartbeat",
            ],
            resource_arns=[self.state_machine_arn],
        )
