"""Engine callback Lambda entry point: SageMaker's SNS notifications complete waiting steps."""

from __future__ import annotations

from typing import Any

from faceport.adapters.aws.lambdas import handle_engine_notifications
from faceport.adapters.aws.observability import observed
from faceport.adapters.aws.runtime import default_runtime


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    handle_engine_notifications(default_runtime(), event)
