"""Monitoring: alarms on failed executions, Lambda errors, API 5xx rate and queue
backlogs, an SNS topic they notify, and one dashboard."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

FIVE_MINUTES = cdk.Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.RestApi,
        functions: dict[str, lambda_.Function],
        state_machine: sfn.StateMachine,
        webhook_queue: sqs.Queue,
        webhook_dlq: sqs.Queue,
        engine_backlog: cw.IMetric,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Alarms", enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cw.Alarm] = []

        self._alarm(
            "FailedExecutions",
            state_machine.metric_failed(period=FIVE_MINUTES, statistic="Sum"),
            1,
            "A task's workflow failed on our side (the task ended internal_error).",
        )
        self._alarm(
            "TimedOutExecutions",
            state_machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum"),
            1,
            "A task's workflow ran past the state machine's timeout.",
        )
        for name, function in functions.items():
            self._alarm(
                f"{name}LambdaErrors",
                function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                1,
                f"The {name} Lambda raised errors.",
            )
        server_errors = api.metric_server_error(period=FIVE_MINUTES, statistic="Average")
        self._alarm("Api5xxRate", server_errors, 0.05, "More than 5% of API requests answered 5xx.")
        self._alarm(
            "WebhookDeadLetters",
            webhook_dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
            1,
            "Webhook deliveries gave up and went to the dead-letter queue.",
        )
        self._alarm(
            "WebhookBacklog",
            webhook_queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES),
            900,
            "Webhook deliveries have waited more than 15 minutes.",
        )
        self._alarm(
            "EngineBacklog",
            engine_backlog,
            50,
            "More than 50 engine requests waiting for 15 minutes (scaling capped or broken).",
            periods=3,
        )

        dashboard = cw.Dashboard(self, "Dashboard")
        dashboard.add_widgets(
            cw.GraphWidget(
                title="API requests and 5xx", left=[api.metric_count(), api.metric_server_error()]
            ),
            cw.GraphWidget(title="API latency (p90)", left=[api.metric_latency(statistic="p90")]),
            cw.GraphWidget(
                title="Task executions",
                left=[
                    state_machine.metric_started(),
                    state_machine.metric_succeeded(),
                    state_machine.metric_failed(),
                ],
            ),
            cw.GraphWidget(title="Engine backlog", left=[engine_backlog]),
            cw.GraphWidget(
                title="Lambda errors", left=[f.metric_errors() for f in functions.values()]
            ),
            cw.GraphWidget(
                title="Webhook queue",
                left=[
                    webhook_queue.metric_approximate_number_of_messages_visible(),
                    webhook_dlq.metric_approximate_number_of_messages_visible(),
                ],
            ),
            cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24),
        )

    def _alarm(
        self, name: str, metric: cw.IMetric, threshold: float, why: str, periods: int = 1
    ) -> None:
        alarm = cw.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=why,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms.append(alarm)
