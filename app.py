"""CDK entry point: `make synth` (or `cdk synth`) builds the CloudFormation template offline,
with cdk-nag's AwsSolutions checks; an unacknowledged finding fails the synth."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.stack import FaceportStack


def add_checks(app: cdk.App) -> None:
    """cdk-nag's AwsSolutions pack as a validation plugin: a finding fails the synth unless
    it is acknowledged (infra/nag.py)."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def build_app(context: dict[str, object] | None = None) -> tuple[cdk.App, FaceportStack]:
    app = cdk.App(context=context)
    stack = FaceportStack(app, "Faceport")
    add_checks(app)
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
