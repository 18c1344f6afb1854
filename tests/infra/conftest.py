"""Synthesize the stack once for all infra tests (bundling skipped: the template, not the
asset, is under test; `make synth` builds the asset)."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def synthesized() -> Any:
    from app import build_app

    app, stack = build_app({"aws:cdk:bundling-stacks": []})
    assembly = app.synth()  # raises if any cdk-nag finding is unacknowledged
    return stack, assembly


@pytest.fixture(scope="session")
def template(synthesized: Any) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_stack(synthesized[0])
