"""The SDK's models and request bodies against the server's own /openapi.json: a field
added, renamed, retyped or made optional on one side and not the other fails here."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from faceport_client import _bodies
from faceport_client._models import ALL_MODELS

from tests.support.api_client import Api, call
from tests.support.images import astronaut_jpeg


@pytest.fixture
def spec(app: Api) -> dict[str, Any]:
    reply = call(app, "GET", "/openapi.json")
    assert reply.status == 200
    document: dict[str, Any] = reply.json()
    return document


def _kinds(schema: dict[str, Any], components: dict[str, Any]) -> frozenset[str]:
    """The JSON types a (sub)schema allows, with references and unions resolved."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _kinds(components.get(name, {"type": "object"}), components)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return frozenset().union(*(_kinds(s, components) for s in schema[union]))
    if "const" in schema or "enum" in schema:
        values = schema.get("enum", [schema.get("const")])
        return frozenset("null" if v is None else type(v).__name__ for v in values)
    kind = schema.get("type", "any")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "integer" in kinds:
        kinds.add("number")  # an int is a number in JSON
    return frozenset("str" if k == "string" else k for k in kinds)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_model_matches_its_component(model: Any, spec: dict[str, Any]) -> None:
    server_components = spec["components"]["schemas"]
    server = server_components[model.OPENAPI_COMPONENT]
    ours = model.model_json_schema(ref_template="#/$defs/{model}")
    our_components = ours.get("$defs", {})
    assert set(ours["properties"]) == set(server["properties"]), model.__name__
    for name, prop in server["properties"].items():
        theirs = _kinds(prop, server_components)
        mine = _kinds(ours["properties"][name], our_components)
        assert theirs <= mine | {"any"} or "any" in mine, (model.__name__, name, theirs, mine)
    # A field the SDK requires must be one the server always sends.
    assert set(ours.get("required", [])) <= set(server.get("required", [])), model.__name__


def _validator(spec: dict[str, Any], component: str) -> jsonschema.Draft202012Validator:
    root = {"$ref": f"#/components/schemas/{component}", "components": spec["components"]}
    return jsonschema.Draft202012Validator(root)


def test_request_bodies_match_the_request_schemas(spec: dict[str, Any]) -> None:
    image = astronaut_jpeg()
    bodies = {
        "FaceSwapRequest": [
            _bodies.swap_body(image, image),
            _bodies.swap_body(image, "https://example.com/a.jpg", target_index=[0, 1]),
            _bodies.swap_body(image, image, face_map=[(0, 1)], output_format="jpg"),
            _bodies.swap_body(image, image, target_index="all", metadata={"a": 1}),
        ],
        "FaceFusionRequest": [_bodies.fuse_body(image, image, similarity=0.3)],
        "VideoFaceSwapRequest": [
            _bodies.swap_video_body(image, b"\0\0\0\x18ftypmp42", target_index="all"),
            _bodies.swap_video_body(image, b"video", reference_face=image),
        ],
        "FaceDetectRequest": [_bodies.detect_body(image)],
    }
    for component, examples in bodies.items():
        validator = _validator(spec, component)
        for body in examples:
            errors = [e.message for e in validator.iter_errors(body)]
            assert not errors, (component, errors)


def test_the_check_catches_a_drifted_body(spec: dict[str, Any]) -> None:
    """The validator above is not vacuous: a renamed field is refused."""
    body = _bodies.swap_body(astronaut_jpeg(), astronaut_jpeg()) | {"targetIndex": 1}
    assert list(_validator(spec, "FaceSwapRequest").iter_errors(body))
