"""cdk-nag's AwsSolutions pack runs on every synth: no finding is left unacknowledged, and
every acknowledgment carries a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from app import add_checks
from infra import nag


def test_the_stack_synthesizes_with_no_unacknowledged_finding(synthesized: Any) -> None:
    _, assembly = synthesized  # app.synth() raises on any unacknowledged finding
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    violations = [v for p in report["pluginReports"] for v in p.get("violations", [])]
    assert violations == []


def test_the_same_checks_fail_a_synth_with_an_unacknowledged_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Canary")
    s3.Bucket(stack, "Careless")  # no TLS rule, no access logs
    add_checks(app)
    with pytest.raises(RuntimeError, match="AwsSolutions-S10"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S10" in report and "AwsSolutions-S1" in report


def test_every_acknowledgment_says_why() -> None:
    assert all(len(reason) > 30 for reason in nag._RULES.values())
