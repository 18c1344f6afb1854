"""Submit Lambda entry point: every route that creates or changes work (and the docs).
Thin on purpose; the resolver and the logic live in faceport."""

from __future__ import annotations

from typing import Any

from faceport.adapters.aws.observability import observed
from faceport.api.lambda_entry import handle


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
