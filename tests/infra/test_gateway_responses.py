"""API Gateway's own answers come from the native group's renderer: the same envelope, code
and status as the local server gives for the same refusal."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from faceport.api.native.errors import render_error
from faceport.errors import InputTooLarge, RateLimited


def gateway_responses(template: Template) -> dict[str, dict[str, Any]]:
    found = template.find_resources("AWS::ApiGateway::GatewayResponse")
    return {r["Properties"]["ResponseType"]: r["Properties"] for r in found.values()}


def test_gateway_refusals_speak_the_native_envelope(template: Template) -> None:
    answers = gateway_responses(template)
    assert set(answers) == {"ACCESS_DENIED", "UNAUTHORIZED", "REQUEST_TOO_LARGE", "THROTTLED"}
    too_large = answers["REQUEST_TOO_LARGE"]
    assert too_large["StatusCode"] == "413"
    body = json.loads(too_large["ResponseTemplates"]["application/json"])
    assert body["error"]["code"] == InputTooLarge.code
    throttled = answers["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"] == {"gatewayresponse.header.Retry-After": "'1'"}
    body = json.loads(throttled["ResponseTemplates"]["application/json"])
    assert body == json.loads(render_error(RateLimited(body["error"]["message"])).body)
    unauthorized = json.loads(answers["UNAUTHORIZED"]["ResponseTemplates"]["application/json"])
    assert unauthorized["error"]["code"] == "missing_api_key"
