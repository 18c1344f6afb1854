"""CDK entry point: `make synth` (or `cdk synth`) builds the CloudFormation template offline,
with cdk-nag's AwsSolutions checks; an unacknowledged finding fails the synth."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.stack import FaceportStack


def build_app(context: dict[str, object] | None = None) -> tuple[cdk.App, FaceportStack]:
    app = cdk.App(context=context)
    stack = FaceportStack(app, "Faceport")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
