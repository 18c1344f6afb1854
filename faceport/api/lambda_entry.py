"""The API resolver as a Lambda handler, built on the first call and kept warm after."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from faceport.api.app import build_app
from faceport.service import Services
from faceport.settings import Settings


@cache
def _app() -> APIGatewayRestResolver:
    return build_app(services_for(Settings()))


def services_for(settings: Settings) -> Services:
    """The services of this shape. Only the local shape exists so far: the AWS adapters
    (DynamoDB, S3, Step Functions) plug in here."""
    from faceport.adapters.local.runtime import build_local_runtime

    return build_local_runtime(settings).services


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one API Gateway proxy event."""
    return _app().resolve(event, context)
