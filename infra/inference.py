"""Inference: the engine container (engine/Dockerfile) as a SageMaker model on an
asynchronous-inference endpoint that writes results to S3, announces them on SNS success
and error topics, and scales to zero (scale-from-zero on backlog); plus the callback
Lambda on both topics that completes the waiting workflow step.

The image is built in its CPU or its GPU variant (`ENGINE_VARIANT`, onnxruntime-gpu) after
the instance type: `ml.g*` and `ml.p*` have GPUs. For a video the container reads the
task and its video itself and writes progress, the result and heartbeats
(`faceport/adapters/aws/engine_container.py`), so its role gets those grants too."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from faceport.settings import Settings
from infra.bundling import ROOT
from infra.functions import python_function

REQUESTS_PREFIX = "engine/requests/"
OUTPUTS_PREFIX = "engine/outputs/"
FAILURES_PREFIX = "engine/failures/"


def engine_variant(instance_type: str) -> str:
    """The engine image variant for a SageMaker instance type: "gpu" on the GPU families
    (ml.g4dn, ml.g5, ml.g6, ml.p3, ...), else "cpu"."""
    family = instance_type.removeprefix("ml.")
    return "gpu" if family[:1] in ("g", "p") else "cpu"


def endpoint_name(stack: cdk.Stack) -> str:
    """A lower-case name of our own: IAM matches endpoint ARNs in lower case."""
    return f"{stack.stack_name}-engine".lower()


# Where SageMaker unpacks a model's `model_data_url` archive in the container.
MODEL_DIR = "/opt/ml/model"


class Inference(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        inputs: s3.IBucket,
        results: s3.IBucket,
        tasks: dynamodb.ITable,
        state_machine_arn: str,
        environment: dict[str, str],
        engine_settings: dict[str, str | int],
        instance_type: str,
        max_instances: int,
        model_data: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.success_topic = sns.Topic(self, "EngineSuccess", enforce_ssl=True)
        self.error_topic = sns.Topic(self, "EngineError", enforce_ssl=True)

        # Built and pushed by `cdk deploy` (needs Docker there); synth only records it.
        image = ecr_assets.DockerImageAsset(
            self,
            "EngineImage",
            directory=str(ROOT),
            file="engine/Dockerfile",
            platform=ecr_assets.Platform.LINUX_AMD64,
            ignore_mode=cdk.IgnoreMode.DOCKER,
            build_args={"ENGINE_VARIANT": engine_variant(instance_type)},
        )
        self.image = image
        role = iam.Role(
            self,
            "EngineRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="faceport engine on SageMaker: pull its image, read requests, answer",
        )
        image.repository.grant_pull(role)
        role.add_to_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    cdk.Stack.of(self).format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/Endpoints/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        inputs.grant_read(role, f"{REQUESTS_PREFIX}*")
        # A video task: the task (progress), its inputs, its result, the step's heartbeat.
        iam.Grant.add_to_principal(
            grantee=role,
            actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
            resource_arns=[tasks.table_arn],
        )
        inputs.grant_read(role, "inputs/*")
        results.grant_put(role, "results/*")
        iam.Grant.add_to_principal(
            grantee=role, actions=["states:SendTaskHeartbeat"], resource_arns=[state_machine_arn]
        )
        results.grant_put(role, f"{OUTPUTS_PREFIX}*")
        results.grant_put(role, f"{FAILURES_PREFIX}*")
        self.success_topic.grant_publish(role)
        self.error_topic.grant_publish(role)

        if model_data:  # the neural backend on the operator's models (README, "Bringing models")
            engine_settings = {**engine_settings, "engine": "onnx", "model_dir": MODEL_DIR}
            bucket, _, key = model_data.removeprefix("s3://").partition("/")
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[f"arn:aws:s3:::{bucket}/{key}"]
                )
            )
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image.image_uri,
                mode="SingleModel",
                environment=Settings.environment(**engine_settings),
                model_data_url=model_data or None,
            ),
        )
        model.node.add_dependency(role)
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="AllTraffic",
                    model_name=model.attr_model_name,
                    instance_type=instance_type,
                    initial_instance_count=1,
                )
            ],
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=1
                ),
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=results.s3_url_for_object(OUTPUTS_PREFIX),
                    s3_failure_path=results.s3_url_for_object(FAILURES_PREFIX),
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=self.success_topic.topic_arn,
                        error_topic=self.error_topic.topic_arn,
                    ),
                ),
            ),
        )
        self.endpoint_name = endpoint_name(cdk.Stack.of(self))
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=config.attr_endpoint_config_name,
        )
        self._autoscale(max_instances)

        self.callback = python_function(
            self,
            "Callback",
            handler="functions.engine_callback.handler.lambda_handler",
            description="faceport engine callback: SNS notification -> SendTaskSuccess/Failure",
            environment=environment,
        )
        for topic in (self.success_topic, self.error_topic):
            topic.add_subscription(subscriptions.LambdaSubscription(self.callback))
        results.grant_read(self.callback, f"{FAILURES_PREFIX}*")

    def _autoscale(self, max_instances: int) -> None:
        """Down to zero instances when idle; the backlog brings the first one back."""
        target = appscaling.ScalableTarget(
            self,
            "Scaling",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/AllTraffic",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=0,
            max_capacity=max_instances,
        )
        target.node.add_dependency(self.endpoint)
        target.scale_to_track_metric(
            "BacklogPerInstance",
            target_value=2,
            custom_metric=self.metric("ApproximateBacklogSizePerInstance"),
            scale_in_cooldown=cdk.Duration.minutes(10),
            scale_out_cooldown=cdk.Duration.minutes(1),
        )
        # Target tracking cannot leave zero (per-instance backlog is undefined there).
        target.scale_on_metric(
            "FromZero",
            metric=self.metric("HasBacklogWithoutCapacity", period=cdk.Duration.minutes(1)),
            scaling_steps=[
                appscaling.ScalingInterval(upper=0.5, change=0),
                appscaling.ScalingInterval(lower=0.5, change=1),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=cdk.Duration.minutes(2),
            evaluation_periods=1,
        )

    def metric(self, name: str, period: cdk.Duration | None = None) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/SageMaker",
            metric_name=name,
            dimensions_map={"EndpointName": self.endpoint_name},
            statistic="Average",
            period=period or cdk.Duration.minutes(5),
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpointAsync"],
            resource_arns=[
                cdk.Stack.of(self).format_arn(
                    service="sagemaker", resource="endpoint", resource_name=self.endpoint_name
                )
            ],
        )
