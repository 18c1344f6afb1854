"""API Lambda entry point: thin on purpose; the resolver and the logic live in faceport."""

from __future__ import annotations

from typing import Any

from faceport.api.lambda_entry import handle


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
