"""Route -> Lambda: every route group's declared routes are what its routers serve, and
API Gateway sends each to the Lambda of its kind (submit or status)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Template

from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.api.app import build_app, build_query_app
from faceport.settings import PROVIDER_CALLBACK_PATH, Settings
from infra.api import api_routes
from tests.support.fakes import FakeEngine


@pytest.fixture
def local(settings: Settings, fake_engine: FakeEngine) -> Iterator[LocalRuntime]:
    runtime = build_local_runtime(settings, engine=fake_engine)
    yield runtime
    runtime.stop()


def served(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every operation in the resolver's OpenAPI document."""
    paths = json.loads(app.get_openapi_json_schema())["paths"]
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in ("get", "post", "put", "patch", "delete")
        if method in item
    }


def registered(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the resolver matches, in its OpenAPI document or not
    (Powertools keeps them in two lists and has no public listing)."""
    return {(r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes}


def test_the_declared_routes_are_what_the_routers_serve(local: LocalRuntime) -> None:
    declared = {(r.method, r.path) for r in api_routes() if r.documented}
    queries = {(r.method, r.path) for r in api_routes() if r.kind == "query" and r.documented}
    app, query_app = build_app(local.services), build_query_app(local.services)
    assert served(app) == declared
    assert served(query_app) == queries
    assert ("GET", "/v1/tasks/{task_id}") in queries and ("POST", "/v1/face-swap") not in queries
    # A route declared `documented=False` is served all the same (by the query app too, if
    # it is a query), only not in the OpenAPI document.
    hidden_routes = [r for r in api_routes() if not r.documented]
    hidden = {(r.method, r.path) for r in hidden_routes}
    hidden_queries = {(r.method, r.path) for r in hidden_routes if r.kind == "query"}
    assert ("POST", PROVIDER_CALLBACK_PATH) in hidden and hidden_queries
    assert hidden <= registered(app) - served(app)
    assert hidden_queries <= registered(query_app) - served(query_app)
    assert registered(query_app) == queries | hidden_queries


def _method_targets(template: Template) -> dict[tuple[str, str], str]:
    """(method, path) -> the Lambda's logical id, from the API Gateway resources."""
    found = template.to_json()["Resources"]
    paths: dict[str, str] = {}

    def path_of(ref: Any) -> str:
        if isinstance(ref, dict) and "Fn::GetAtt" in ref:  # the root resource
            return ""
        logical = ref["Ref"]
        if logical not in paths:
            props = found[logical]["Properties"]
            paths[logical] = f"{path_of(props['ParentId'])}/{props['PathPart']}"
        return paths[logical]

    targets = {}
    for resource in found.values():
        if resource["Type"] != "AWS::ApiGateway::Method":
            continue
        props = resource["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        uri = props["Integration"]["Uri"]["Fn::Join"][1]
        (function,) = [p["Fn::GetAtt"][0] for p in uri if isinstance(p, dict) and "Fn::GetAtt" in p]
        targets[(props["HttpMethod"], path_of(props["ResourceId"]) or "/")] = function
    return targets


def _function(template: Template, handler: str) -> str:
    functions = template.find_resources("AWS::Lambda::Function")
    (found,) = [n for n, f in functions.items() if f["Properties"]["Handler"] == handler]
    return found


def test_api_gateway_sends_submits_to_the_submit_lambda_and_queries_to_status(
    template: Template,
) -> None:
    targets = _method_targets(template)
    submit = _function(template, "functions.submit.handler.lambda_handler")
    status = _function(template, "functions.status.handler.lambda_handler")
    lambdas = {"submit": submit, "query": status}
    for route in api_routes():
        assert targets[(route.method, route.path)] == lambdas[route.kind], route
    # Everything else (unknown paths, other methods) reaches the Lambda that writes nothing;
    # the docs describe every route, so the submit Lambda (which has them all) serves them.
    assert targets[("ANY", "/{proxy+}")] == status
    assert targets[("ANY", "/v1/face-swap")] == status
    assert targets[("GET", "/openapi.json")] == submit
