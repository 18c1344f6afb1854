"""The faceport stack: it only composes constructs (storage, api, workflow, inference,
webhooks, monitoring), each in its own module. The walking skeleton runs locally only; the
constructs arrive with the AWS shape."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct


class FaceportStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="faceport face-swap API", **kwargs)
