"""Storage: the input and result buckets, the tables of infra/schema.py, and the webhook
queue with its dead-letter queue."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.schema import TABLES

_STRING = dynamodb.AttributeType.STRING


class Storage(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        input_expiry_days: int,
        result_expiry_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(90))],
            removal_policy=removal_policy,
        )
        self.inputs = self._bucket("Inputs", input_expiry_days, removal_policy)
        self.results = self._bucket("Results", result_expiry_days, removal_policy)
        self.tables: dict[str, dynamodb.Table] = {}
        for name, spec in TABLES.items():
            table = dynamodb.Table(
                self,
                f"{name.capitalize()}Table",
                partition_key=dynamodb.Attribute(name=spec.partition, type=_STRING),
                sort_key=dynamodb.Attribute(name=spec.sort, type=_STRING) if spec.sort else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl,
                stream=dynamodb.StreamViewType(spec.stream) if spec.stream else None,
                removal_policy=removal_policy,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=dynamodb.Attribute(name=index.partition, type=_STRING),
                    sort_key=dynamodb.Attribute(name=index.sort, type=_STRING)
                    if index.sort
                    else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            self.tables[name] = table
        self.webhook_dlq = sqs.Queue(
            self,
            "WebhookDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        self.webhook_queue = sqs.Queue(
            self,
            "WebhookQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Six times the sender's timeout, as AWS advises for an SQS event source.
            visibility_timeout=cdk.Duration.seconds(6 * 90),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=8, queue=self.webhook_dlq),
        )

    def _bucket(self, name: str, expiry_days: int, removal: cdk.RemovalPolicy) -> s3.Bucket:
        return s3.Bucket(
            self,
            name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{name.lower()}/",
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(expiry_days)),
                # Engine requests and raw answers are only needed while a task runs.
                s3.LifecycleRule(prefix="engine/", expiration=cdk.Duration.days(1)),
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=cdk.Duration.days(1)),
            ],
            removal_policy=removal,
        )

    def settings(self) -> dict[str, str]:
        """The faceport settings (field names of `AwsSettings`) naming what this made."""
        return {
            "tasks_table": self.tables["tasks"].table_name,
            "accounts_table": self.tables["accounts"].table_name,
            "idempotency_table": self.tables["idempotency"].table_name,
            "webhooks_table": self.tables["webhooks"].table_name,
            "webhook_queue_url": self.webhook_queue.queue_url,
            "inputs_bucket": self.inputs.bucket_name,
            "results_bucket": self.results.bucket_name,
        }
