"""Workflow Lambda entry point: one step of the task state machine (thin on purpose)."""

from __future__ import annotations

from typing import Any

from faceport.adapters.aws.lambdas import handle_step
from faceport.adapters.aws.observability import observed
from faceport.adapters.aws.runtime import default_runtime


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_step(default_runtime(), event)
