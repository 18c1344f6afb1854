"""The engine image and its role: the GPU variant follows the instance type by itself, and
the container may do a video task's storage work (and nothing that starts or ends work)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.inference import engine_variant
from infra.stack import FaceportConfig, FaceportStack
from tests.infra.test_template import actions_of, resources


@pytest.mark.parametrize(
    ("instance_type", "variant"),
    [("ml.c5.xlarge", "cpu"), ("ml.m5.large", "cpu"), ("ml.g5.xlarge", "gpu"),
     ("ml.g4dn.xlarge", "gpu"), ("ml.p3.2xlarge", "gpu"), ("ml.inf2.xlarge", "cpu")],
)  # fmt: skip
def test_the_variant_follows_the_instance_family(instance_type: str, variant: str) -> None:
    assert engine_variant(instance_type) == variant


def build_args(stack: cdk.Stack, assembly: Any) -> dict[str, str]:
    manifest = json.loads(
        (Path(assembly.directory) / f"{stack.artifact_id}.assets.json").read_text()
    )
    (image,) = manifest["dockerImages"].values()
    args: dict[str, str] = image["source"]["dockerBuildArgs"]
    return args


def test_the_default_stack_builds_the_cpu_image_and_a_gpu_instance_the_gpu_one(
    synthesized: Any, tmp_path: Path
) -> None:
    stack, assembly = synthesized
    assert build_args(stack, assembly) == {"ENGINE_VARIANT": "cpu"}
    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": []})
    # The GPU instance with the neural backend on the operator's models (one synth for both).
    models = "s3://acme-models/faceport/model.tar.gz"
    config = FaceportConfig(engine_instance_type="ml.g5.xlarge", engine_model_data=models)
    gpu = FaceportStack(app, "Gpu", config=config)
    assert build_args(gpu, app.synth()) == {"ENGINE_VARIANT": "gpu"}
    template = Template.from_stack(gpu)
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"ProductionVariants": [Match.object_like({"InstanceType": "ml.g5.xlarge"})]},
    )
    (model,) = resources(template, "AWS::SageMaker::Model").values()
    container = model["Properties"]["PrimaryContainer"]
    assert container["ModelDataUrl"] == models
    assert container["Environment"]["FACEPORT_ENGINE"] == "onnx"
    assert container["Environment"]["FACEPORT_MODEL_DIR"] == "/opt/ml/model"
    reads = [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "s3:GetObject"
    ]
    assert any(s["Resource"] == "arn:aws:s3:::acme-models/faceport/model.tar.gz" for s in reads)
    (default_model,) = resources(Template.from_stack(stack), "AWS::SageMaker::Model").values()
    assert "ModelDataUrl" not in default_model["Properties"]["PrimaryContainer"]


def test_the_container_may_run_a_video_task_but_not_start_or_end_work(template: Template) -> None:
    roles = resources(template, "AWS::IAM::Role")
    (engine_role,) = [
        name
        for name, role in roles.items()
        if "sagemaker.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    statements = [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": engine_role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = actions_of(statements)
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem", "states:SendTaskHeartbeat"} <= actions
    assert not actions & {"states:StartExecution", "states:SendTaskSuccess", "dynamodb:PutItem",
                          "dynamodb:DeleteItem", "s3:DeleteObject*"}  # fmt: skip
    (model,) = resources(template, "AWS::SageMaker::Model").values()
    env = model["Properties"]["PrimaryContainer"]["Environment"]
    assert set(env) == {"FACEPORT_TASKS_TABLE", "FACEPORT_INPUTS_BUCKET", "FACEPORT_RESULTS_BUCKET",
                        "FACEPORT_ENGINE_HEARTBEAT_S", "FACEPORT_ENGINE_TIMEOUT_S"}  # fmt: skip
