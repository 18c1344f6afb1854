"""How the fail step reads what a Catch caught, and how steps report errors."""

from __future__ import annotations

import json

from faceport.adapters.aws.lambdas import TaskFailed, error_from_catch
from faceport.engine_protocol import error_document
from faceport.errors import EngineTimeout, FaceportError, NoFaceInSource, UrlFetchFailed


def test_timeouts_are_engine_timeouts() -> None:
    for name in ("States.HeartbeatTimeout", "States.Timeout"):
        assert isinstance(error_from_catch({"Error": name, "Cause": None}), EngineTimeout)


def test_the_engines_code_comes_from_the_error_name() -> None:
    error = error_from_catch({"Error": "faceport.no_face_in_source", "Cause": "none here"})
    assert isinstance(error, NoFaceInSource) and error.message == "none here"
    unknown = error_from_catch({"Error": "faceport.some_new_code", "Cause": None})
    assert unknown.code == "engine_error"


def test_a_steps_error_comes_from_the_lambda_error_payload() -> None:
    document = error_document(UrlFetchFailed("The URL answered 404.")).decode()
    payload = {"errorType": TaskFailed.__name__, "errorMessage": document}
    error = error_from_catch({"Error": "TaskFailed", "Cause": json.dumps(payload)})
    assert isinstance(error, UrlFetchFailed) and error.message == "The URL answered 404."


def test_anything_else_is_an_internal_error() -> None:
    error = error_from_catch({"Error": "Lambda.Unknown", "Cause": "boom"})
    assert type(error) is FaceportError and error.code == "internal_error"
